/* Keyboard and screen-reader names for what Leaflet and folium draw: the map itself, its zoom and layer
 * controls, popups (focus moves in when a pin is opened from the keyboard, and back to the pin when the
 * popup closes). Pins and pin groups get their names in pins.js. */
(function () {
  "use strict";

  const M = window.mapsvc;
  if (!M) return;
  const {map, t} = M;
  const container = map.getContainer();

  // Leaflet makes the map focusable (arrow keys pan, +/- zoom); a region with a name says what it is.
  container.setAttribute("role", "region");
  container.setAttribute("aria-label", t("access.map_label"));

  function name(selector, label) {
    for (const node of container.querySelectorAll(selector)) {
      node.setAttribute("aria-label", label);
      node.setAttribute("title", label);
    }
  }
  name(".leaflet-control-zoom-in", t("access.zoom_in"));
  name(".leaflet-control-zoom-out", t("access.zoom_out"));
  name(".leaflet-control-layers-toggle", t("access.layers"));
  // The layer switcher's list is a form; the attribution's links already carry their text.
  for (const list of container.querySelectorAll(".leaflet-control-layers-list")) {
    list.setAttribute("aria-label", t("access.layers"));
  }

  let returnTo = null;   // the pin whose popup the keyboard opened

  // Leaflet listens for Escape only while the map itself has the focus; inside a popup it closes it too.
  container.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && event.target.closest && event.target.closest(".leaflet-popup")) {
      event.preventDefault();
      map.closePopup();
    }
  });

  map.on("popupopen", (event) => {
    const element = event.popup.getElement();
    if (!element) return;
    for (const close of element.querySelectorAll(".leaflet-popup-close-button")) {
      close.setAttribute("aria-label", t("access.close_popup"));
      close.setAttribute("title", t("access.close_popup"));
    }
    const source = event.popup._source && event.popup._source.getElement ? event.popup._source.getElement() : null;
    const fromList = document.activeElement && document.activeElement.closest && document.activeElement.closest("#mapsvc-list");
    if (source && (document.activeElement === source || fromList)) {
      // Opened with Enter on the pin (or from the list): read the popup next, come back here afterwards.
      returnTo = fromList ? document.activeElement : source;
      const content = element.querySelector(".mapsvc-popup") || element;
      content.setAttribute("tabindex", "-1");
      content.focus({preventScroll: true});
    } else {
      returnTo = null;
    }
  });

  map.on("popupclose", (event) => {
    const element = event.popup.getElement();
    const lost = document.activeElement === document.body || (element && element.contains(document.activeElement));
    const target = returnTo;
    returnTo = null;
    if (lost && target && target.isConnected) setTimeout(() => target.focus({preventScroll: true}), 0);
  });
})();

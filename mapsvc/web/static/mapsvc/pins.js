/* Fill each layer group of the folium map with the pins of the current view: server grid clusters when
 * many are in view, single pins (clustered on the client by Leaflet.markercluster) when few. Popups and
 * votes are in popups.js. Every text from the data goes in with textContent or setAttribute, never innerHTML. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("mapsvc-config").textContent);
  const map = window[config.map];
  const statusBox = document.getElementById("mapsvc-status");
  const layers = new Map();
  let csrf = null;
  let bearer = null;   // an embedded map's own login token (contribute.js), sent instead of the cookie
  let statusTimer = null;

  function t(id, values) {
    let text = Object.prototype.hasOwnProperty.call(config.messages, id) ? config.messages[id] : id;
    for (const [key, value] of Object.entries(values || {})) text = text.split("{" + key + "}").join(String(value));
    return text;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return csrf || (meta ? meta.getAttribute("content") : null);
  }

  function authHeaders() {
    return bearer ? {Accept: "application/json", Authorization: "Bearer " + bearer} : {Accept: "application/json"};
  }

  async function api(method, url, body) {
    const headers = {Accept: "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (bearer) headers.Authorization = "Bearer " + bearer;
    else if (method !== "GET" && csrfToken()) headers["X-CSRFToken"] = csrfToken();
    let response;
    try {
      response = await fetch(url, {method, headers, credentials: "same-origin",
                                   body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (err) {
      return {ok: false, status: 0, data: null, error: {code: "network"}};
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }  // 204, or a page instead of JSON
    const error = response.ok ? null : (data && data.error) || {code: response.status === 429 ? "too_many_requests" : "generic"};
    return {ok: response.ok, status: response.status, data, error};
  }

  function errorText(error, values) {
    const code = (error && error.code) || "generic";
    const key = "error." + code;
    if (Object.prototype.hasOwnProperty.call(config.messages, key)) {
      return t(key, Object.assign({platform: config.platform.name}, values || {}));
    }
    return t("error.generic", {code});
  }

  function setStatus(text, sticky, kind) {
    clearTimeout(statusTimer);
    statusBox.textContent = text || "";
    statusBox.dataset.kind = text ? kind || "note" : "";
    if (text && !sticky) statusTimer = setTimeout(() => { statusBox.textContent = ""; statusBox.dataset.kind = ""; }, 6000);
  }

  let tilesOff = false;  // the last tile failed and none arrived since
  function clearLoadStatus() {
    // Only loading notes go away when pins arrive; a note about tiles or a saved pin stays its time. A slow
    // load's note may have covered the note about missing tiles: bring that back.
    if (statusBox.dataset.kind === "loading") setStatus(tilesOff ? t("page.tiles_off") : "", true, "tiles");
  }

  function votesText(n) { return n === 1 ? t("popup.votes_one") : t("popup.votes_many", {n}); }

  function shortCount(n) { return n >= 10000 ? Math.round(n / 1000) + "k" : String(n); }

  // ------------------------------------------------------------------ layers and loading
  for (const cfg of config.layers) {
    const group = window[cfg.group];
    const state = {
      cfg, group, pins: new Map(), markers: new Map(), details: new Map(), loaded: null, controller: null,
      drawnAt: null, votesLeft: undefined,
      clustersLayer: L.layerGroup(), outlines: L.layerGroup(),
    };
    state.pinsLayer = L.markerClusterGroup({maxClusterRadius: 40, showCoverageOnHover: false, spiderfyOnMaxZoom: true,
                                            iconCreateFunction: (cluster) => clusterIcon(state, cluster.getChildCount())});
    // Leaflet makes every marker a focusable button; Enter on a group of pins does what a click does.
    state.pinsLayer.on("clusterkeypress", (event) => {
      if (!isEnter(event)) return;
      if (map.getZoom() >= map.getMaxZoom()) event.layer.spiderfy();
      else event.layer.zoomToBounds({padding: [40, 40]});
    });
    group.addLayer(state.outlines);
    group.addLayer(state.pinsLayer);
    group.addLayer(state.clustersLayer);
    layers.set(cfg.slug, state);
  }

  function needsLoad(state) {
    const loaded = state.loaded;
    if (!loaded) return true;
    if (!loaded.bounds.contains(map.getBounds())) return true;
    // Pins are complete for their box: zooming in needs nothing new. Clusters belong to one zoom.
    return loaded.mode === "pins" ? (map.getZoom() < loaded.zoom || loaded.truncated) : map.getZoom() !== loaded.zoom;
  }

  function viewBox() {
    const b = map.getBounds().pad(0.25);
    const clamp = (v, lim) => Math.max(-lim, Math.min(lim, v));
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 85), clamp(b.getEast(), 180), clamp(b.getNorth(), 85)]
      .map((v) => v.toFixed(6)).join(",");
  }

  async function load(state, force) {
    if (!map.hasLayer(state.group) || (!force && !needsLoad(state))) return;
    if (state.controller) state.controller.abort();
    const controller = new AbortController();
    state.controller = controller;
    const zoom = Math.round(map.getZoom());
    const slow = setTimeout(() => setStatus(t("map.loading"), true, "loading"), 400);
    let data = null;
    const early = bearer ? null : prefetched(state, zoom);  // the head's early request carried no token
    const askedAt = early ? 0 : performance.now();  // an answer is no newer than its question
    try {
      if (early) data = await early;
      if (!data) {
        const response = await fetch(state.cfg.pinsUrl + "?bbox=" + viewBox() + "&zoom=" + zoom,
                                     {signal: controller.signal, credentials: "same-origin", headers: authHeaders()});
        if (!response.ok) throw new Error("HTTP " + response.status);
        data = await response.json();
      }
    } catch (err) {
      clearTimeout(slow);
      if (state.controller === controller) state.controller = null;
      if (err.name !== "AbortError") loadFailed(state);
      return;
    }
    clearTimeout(slow);
    if (state.controller !== controller) return;
    state.controller = null;
    state.loaded = {bounds: L.latLngBounds([data.bbox[1], data.bbox[0]], [data.bbox[3], data.bbox[2]]), zoom,
                    mode: data.mode, truncated: Boolean(data.truncated)};
    draw(state, data, askedAt);
    if (data.truncated) setStatus(t("map.truncated"), true, "loading");
    else clearLoadStatus();
  }

  function prefetched(state, zoom) {
    // The head of the page asked for the first view early; use that answer once, if it covers this view.
    const early = window.mapsvcPrefetch;
    if (!early || !early.answers[state.cfg.slug]) return null;
    const answer = early.answers[state.cfg.slug];
    delete early.answers[state.cfg.slug];
    const [w, s, e, n] = early.bbox;
    return early.zoom === zoom && L.latLngBounds([s, w], [n, e]).contains(map.getBounds()) ? answer : null;
  }

  function loadFailed(state) {
    setStatus(t("map.load_failed", {layer: state.cfg.title}) + " ", true, "loading");
    statusBox.append(el("button", {type: "button", text: t("map.retry"), onclick: () => { setStatus(""); load(state, true); }}));
  }

  function loadAll(force) { for (const state of layers.values()) load(state, force); }

  // ------------------------------------------------------------------ drawing
  function draw(state, data, askedAt = 0) {
    state.clustersLayer.clearLayers();
    if (data.mode === "clusters") {
      state.pinsLayer.clearLayers();
      state.outlines.clearLayers();
      state.markers.clear();
      state.pins.clear();
      for (const cluster of data.clusters) state.clustersLayer.addLayer(clusterMarker(state, cluster));
    } else {
      const keep = new Set(data.pins.map((p) => p.id));
      const stale = [];
      for (const [id, marker] of state.markers) {
        if (!keep.has(id)) { stale.push(marker); state.markers.delete(id); state.pins.delete(id); }
      }
      state.pinsLayer.removeLayers(stale);
      const fresh = [];
      for (const pin of data.pins) {
        if (state.markers.has(pin.id)) {
          // A vote made while this answer was on its way is newer than the answer: keep it.
          const known = state.pins.get(pin.id);
          if (!(known.changedAt > askedAt)) { Object.assign(known, pin); refreshPin(state, pin.id); }
          continue;
        }
        state.pins.set(pin.id, pin);
        const marker = pinMarker(state, pin);
        state.markers.set(pin.id, marker);
        fresh.push(marker);
      }
      state.pinsLayer.addLayers(fresh);
      drawOutlines(state);
    }
    window.mapsvcDraws = (window.mapsvcDraws || 0) + 1;  // benchmarks/map_load.py times pans with it
    markDrawn(state);
  }

  function isEnter(event) {
    const key = event.originalEvent && (event.originalEvent.key || event.originalEvent.keyCode);
    return key === "Enter" || key === 13;
  }

  function clusterIcon(state, count, fromServer) {
    // The same symbol for server clusters and markercluster's client clusters, in the layer's colour.
    // The visible number is short ("12k"); screen readers get the whole sentence as the marker's name.
    const size = count < 100 ? 34 : count < 1000 ? 40 : 46;
    const label = el("div", {class: "mapsvc-cluster-disc", "data-count": count, "data-layer": state.cfg.slug},
                     el("span", {text: shortCount(count), "aria-hidden": "true"}),
                     el("span", {class: "mapsvc-visually-hidden", text: t("map.cluster_label", {n: count})}));
    label.style.background = state.cfg.colour;
    return L.divIcon({html: label, className: fromServer ? "mapsvc-cluster mapsvc-server-cluster" : "mapsvc-cluster",
                      iconSize: [size, size]});
  }

  function clusterMarker(state, cluster) {
    const marker = L.marker([cluster.lat, cluster.lon], {icon: clusterIcon(state, cluster.count, true),
                                                         title: t("map.cluster_label", {n: cluster.count})});
    const zoomIn = () => {
      const [w, s, e, n] = cluster.bbox;
      if (e - w < 1e-7 && n - s < 1e-7) map.setView([cluster.lat, cluster.lon], Math.min(map.getZoom() + 3, map.getMaxZoom()));
      else map.fitBounds([[s, w], [n, e]], {padding: [40, 40], maxZoom: map.getMaxZoom()});
    };
    marker.on("click", zoomIn);
    marker.on("keypress", (event) => { if (isEnter(event)) zoomIn(); });
    return marker;
  }

  function pinIcon(state, pin) {
    const classes = ["mapsvc-pin"];
    if (pin.demo) classes.push("is-demo");
    if (pin.mine) classes.push("is-mine");
    if (pin.voted) classes.push("is-voted");
    const dot = el("span", {class: classes.join(" "), "data-feature-id": pin.id, "data-layer": state.cfg.slug});
    dot.style.background = state.cfg.colour;
    return new LabelledIcon({html: dot, className: "mapsvc-pin-icon", iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -8],
                             label: pinLabel(state, pin)});
  }

  // A pin's name for screen readers: title, status and support (the tooltip stays the bare title).
  const LabelledIcon = L.DivIcon.extend({
    createIcon(oldIcon) {
      const div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      div.setAttribute("aria-label", this.options.label);
      return div;
    },
  });

  function pinLabel(state, pin) {
    const values = {title: pin.title || t("map.untitled"), status: pin.status ? t("status." + pin.status) : "",
                    votes: votesText(pin.vote_count || 0)};
    let label = t(pin.mine ? "access.pin_label_mine" : "access.pin_label", values);
    if (state.cfg.kind !== "suggestions") label = values.title;
    return label;
  }

  function pinMarker(state, pin) {
    const marker = L.marker([pin.lat, pin.lon], {icon: pinIcon(state, pin), title: pin.title || t("map.untitled"),
                                                 riseOnHover: true});
    // popups.js adds popupContent; it is looked up when a popup opens.
    marker.bindPopup(() => window.mapsvc.popupContent(state, pin.id), {minWidth: 220, maxWidth: 320});
    return marker;
  }

  function drawOutlines(state) {
    state.outlines.clearLayers();
    for (const pin of state.pins.values()) {
      if (!pin.outline) continue;
      state.outlines.addLayer(L.geoJSON(pin.outline, {interactive: false,
        style: {color: state.cfg.colour, weight: 2, fillOpacity: 0.15}}));
    }
  }

  function markDrawn(state) {
    if (state.drawnAt !== null) return;
    // Two frames later the browser has painted what was just added.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      state.drawnAt = performance.now();
      const waiting = [...layers.values()].filter((s) => map.hasLayer(s.group) && s.drawnAt === null);
      if (!waiting.length && window.mapsvcPinsDrawn === undefined) {
        window.mapsvcPinsDrawn = performance.now();
        document.body.setAttribute("data-pins-drawn", String(Math.round(window.mapsvcPinsDrawn)));
      }
    }));
  }

  function refreshPin(state, id) {
    const pin = state.pins.get(id);
    const marker = state.markers.get(id);
    if (!pin || !marker) return;
    const hadFocus = document.activeElement === marker.getElement();
    marker.setIcon(pinIcon(state, pin));
    if (hadFocus && marker.getElement()) marker.getElement().focus();
    if (marker.isPopupOpen()) {
      // New content replaces the buttons: a keyboard user's focus moves to the new voting button.
      const popup = marker.getPopup().getElement();
      const focused = popup && popup.contains(document.activeElement);
      marker.setPopupContent(window.mapsvc.popupContent(state, id));
      const again = focused && popup.querySelector(".mapsvc-voting button, .mapsvc-popup button, .mapsvc-popup");
      if (again) { if (!again.matches("button")) again.setAttribute("tabindex", "-1"); again.focus(); }
    }
    changed("mapsvc:pin-changed", state.cfg.slug, id);
  }

  function changed(type, slug, id) {
    // The list view (listview.js) follows the map's changes through these events.
    document.dispatchEvent(new CustomEvent(type, {detail: {slug, id}}));
  }

  function addPin(slug, pin) {
    const state = layers.get(slug);
    removePin(slug, pin.id);
    state.pins.set(pin.id, pin);
    const marker = pinMarker(state, pin);
    state.markers.set(pin.id, marker);
    state.pinsLayer.addLayer(marker);
    drawOutlines(state);
    changed("mapsvc:pins-changed", slug, pin.id);
    return marker;
  }

  function removePin(slug, id) {
    const state = layers.get(slug);
    const marker = state.markers.get(id);
    if (marker) { marker.closePopup(); state.pinsLayer.removeLayer(marker); }
    state.markers.delete(id);
    state.pins.delete(id);
    state.details.delete(id);
    drawOutlines(state);
    changed("mapsvc:pins-changed", slug, id);
  }

  function openPopup(slug, id) {
    const state = layers.get(slug);
    const marker = state.markers.get(id);
    if (!marker) return;
    // Seen in tests: after a jump of the view while a load's markers were being added, markercluster can
    // hold a marker that lies in view but is neither drawn nor inside a drawn cluster; zoomToShowLayer then
    // pans to where the map already is and waits for a move that never comes. Adding it again draws it.
    if (map.getBounds().contains(marker.getLatLng()) && !state.pinsLayer.getVisibleParent(marker)) {
      state.pinsLayer.removeLayer(marker);
      state.pinsLayer.addLayer(marker);
    }
    state.pinsLayer.zoomToShowLayer(marker, () => marker.openPopup());
  }

  // ------------------------------------------------------------------ start
  let moveTimer = null;
  map.on("moveend", () => {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(() => { moveTimer = null; loadAll(false); }, 80);
  });
  map.on("overlayadd", (event) => { for (const state of layers.values()) if (event.layer === state.group) load(state, false); });
  if (config.tiles && window[config.tiles]) {
    // Offline or blocked tiles: say so for as long as no tile arrives; pins and boundary need no tiles.
    window[config.tiles].on("tileerror", () => {
      tilesOff = true;
      if (statusBox.dataset.kind !== "tiles") setStatus(t("page.tiles_off"), true, "tiles");
    });
    window[config.tiles].on("tileload", () => { tilesOff = false; if (statusBox.dataset.kind === "tiles") setStatus(""); });
  }
  if (config.dataAttribution && map.attributionControl) {
    const holder = document.createElement("span");
    holder.textContent = config.dataAttribution;
    map.attributionControl.addAttribution(holder.innerHTML);  // the attribution control takes HTML: escaped
  }

  window.mapsvc = {
    config, map, layers, t, el, api, errorText, setStatus, votesText, addPin, removePin, refreshPin, openPopup,
    loadAll, setCsrf: (token) => { csrf = token; }, setBearer: (token) => { bearer = token; },
    // Loads in flight or about to start (benchmarks wait for zero after moving the map).
    pending: () => [...layers.values()].filter((s) => s.controller).length + (moveTimer ? 1 : 0),
  };
  loadAll(true);
})();

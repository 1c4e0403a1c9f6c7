/* Fill each layer group of the folium map with the pins of the current view: server grid clusters when
 * many are in view, single pins (clustered on the client by Leaflet.markercluster) when few; popups with
 * votes. Every text from the data goes in with textContent or setAttribute, never innerHTML. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("mapsvc-config").textContent);
  const map = window[config.map];
  const statusBox = document.getElementById("mapsvc-status");
  const layers = new Map();
  let csrf = null;
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

  async function api(method, url, body) {
    const headers = {Accept: "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && csrfToken()) headers["X-CSRFToken"] = csrfToken();
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

  function setStatus(text, sticky) {
    clearTimeout(statusTimer);
    statusBox.textContent = text || "";
    if (text && !sticky) statusTimer = setTimeout(() => { statusBox.textContent = ""; }, 6000);
  }

  function votesText(n) { return n === 1 ? t("popup.votes_one") : t("popup.votes_many", {n}); }

  function shortCount(n) { return n >= 10000 ? Math.round(n / 1000) + "k" : String(n); }

  function safeUrl(value) {
    try {
      const url = new URL(String(value));
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) { return null; }
  }

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
    const slow = setTimeout(() => setStatus(t("map.loading"), true), 400);
    let data;
    try {
      const response = await fetch(state.cfg.pinsUrl + "?bbox=" + viewBox() + "&zoom=" + zoom,
                                   {signal: controller.signal, credentials: "same-origin", headers: {Accept: "application/json"}});
      if (!response.ok) throw new Error("HTTP " + response.status);
      data = await response.json();
    } catch (err) {
      clearTimeout(slow);
      if (err.name !== "AbortError") loadFailed(state);
      return;
    }
    clearTimeout(slow);
    if (state.controller !== controller) return;
    state.controller = null;
    state.loaded = {bounds: L.latLngBounds([data.bbox[1], data.bbox[0]], [data.bbox[3], data.bbox[2]]), zoom,
                    mode: data.mode, truncated: Boolean(data.truncated)};
    draw(state, data);
    setStatus(data.truncated ? t("map.truncated") : "", Boolean(data.truncated));
  }

  function loadFailed(state) {
    clearTimeout(statusTimer);
    statusBox.textContent = "";
    statusBox.append(t("map.load_failed", {layer: state.cfg.title}), " ",
                     el("button", {type: "button", text: t("map.retry"), onclick: () => { setStatus(""); load(state, true); }}));
  }

  function loadAll(force) { for (const state of layers.values()) load(state, force); }

  // ------------------------------------------------------------------ drawing
  function draw(state, data) {
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
        if (state.markers.has(pin.id)) { Object.assign(state.pins.get(pin.id), pin); refreshPin(state, pin.id); continue; }
        state.pins.set(pin.id, pin);
        const marker = pinMarker(state, pin);
        state.markers.set(pin.id, marker);
        fresh.push(marker);
      }
      state.pinsLayer.addLayers(fresh);
      drawOutlines(state);
    }
    markDrawn(state);
  }

  function clusterIcon(state, count, fromServer) {
    // The same symbol for server clusters and markercluster's client clusters, in the layer's colour.
    const size = count < 100 ? 34 : count < 1000 ? 40 : 46;
    const label = el("div", {class: "mapsvc-cluster-disc", "data-count": count, "data-layer": state.cfg.slug},
                     el("span", {text: shortCount(count)}));
    label.style.background = state.cfg.colour;
    return L.divIcon({html: label, className: fromServer ? "mapsvc-cluster mapsvc-server-cluster" : "mapsvc-cluster",
                      iconSize: [size, size]});
  }

  function clusterMarker(state, cluster) {
    const marker = L.marker([cluster.lat, cluster.lon], {icon: clusterIcon(state, cluster.count, true),
                                                         title: t("map.cluster_label", {n: cluster.count})});
    marker.on("click", () => {
      const [w, s, e, n] = cluster.bbox;
      if (e - w < 1e-7 && n - s < 1e-7) map.setView([cluster.lat, cluster.lon], Math.min(map.getZoom() + 3, map.getMaxZoom()));
      else map.fitBounds([[s, w], [n, e]], {padding: [40, 40], maxZoom: map.getMaxZoom()});
    });
    return marker;
  }

  function pinIcon(state, pin) {
    const classes = ["mapsvc-pin"];
    if (pin.demo) classes.push("is-demo");
    if (pin.mine) classes.push("is-mine");
    if (pin.voted) classes.push("is-voted");
    const dot = el("span", {class: classes.join(" "), "data-feature-id": pin.id, "data-layer": state.cfg.slug});
    dot.style.background = state.cfg.colour;
    return L.divIcon({html: dot, className: "mapsvc-pin-icon", iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -8]});
  }

  function pinMarker(state, pin) {
    const marker = L.marker([pin.lat, pin.lon], {icon: pinIcon(state, pin), title: pin.title || t("map.untitled"),
                                                 riseOnHover: true});
    marker.bindPopup(() => popupContent(state, pin.id), {minWidth: 220, maxWidth: 320});
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
    marker.setIcon(pinIcon(state, pin));
    if (marker.isPopupOpen()) marker.setPopupContent(popupContent(state, id));
  }

  function addPin(slug, pin) {
    const state = layers.get(slug);
    removePin(slug, pin.id);
    state.pins.set(pin.id, pin);
    const marker = pinMarker(state, pin);
    state.markers.set(pin.id, marker);
    state.pinsLayer.addLayer(marker);
    drawOutlines(state);
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
  }

  function openPopup(slug, id) {
    const state = layers.get(slug);
    const marker = state.markers.get(id);
    if (marker) state.pinsLayer.zoomToShowLayer(marker, () => marker.openPopup());
  }

  // ------------------------------------------------------------------ popups and votes
  function popupContent(state, id) {
    const pin = state.pins.get(id);
    const box = el("div", {class: "mapsvc-popup", "data-feature-id": id});
    if (!pin) return box;
    box.append(el("h3", {text: pin.title || t("map.untitled")}));
    if (pin.demo) box.append(el("span", {class: "mapsvc-badge", text: t("popup.demo")}));
    if (pin.status) box.append(el("p", {class: "mapsvc-pin-status", text: t("status." + pin.status)}));
    const detail = el("div", {class: "mapsvc-detail"});
    box.append(detail);
    fillDetail(state, id, detail);
    const message = el("p", {class: "mapsvc-message", role: "status"});
    if (state.cfg.kind === "suggestions") box.append(votingBlock(state, pin, message));
    if (pin.mine && pin.status === "submitted" && state.cfg.open && window.mapsvcContribute) {
      box.append(window.mapsvcContribute.ownPinActions(state, pin, message));
    }
    box.append(message);
    return box;
  }

  async function fillDetail(state, id, node) {
    let feature = state.details.get(id);
    if (!feature) {
      node.textContent = t("popup.loading");
      const res = await api("GET", state.cfg.featuresUrl + "/" + id);
      node.textContent = "";
      if (!res.ok) return;
      feature = res.data;
      state.details.set(id, feature);
    }
    node.replaceChildren(...detailNodes(state, feature));
  }

  function detailNodes(state, feature) {
    const props = feature.properties || {};
    const nodes = [];
    if (props.description) nodes.push(el("p", {text: props.description}));
    const list = el("dl");
    for (const field of state.cfg.fields) {
      if (field.name === "title" || field.name === "description" || field.name === "name") continue;
      const value = props[field.name];
      if (value === null || value === undefined || value === "") continue;
      let shown = String(value);
      if (field.type === "boolean") shown = value ? t("form.yes") : t("form.no");
      if (field.type === "enum") shown = (field.choices.find((c) => c.value === value) || {label: shown}).label;
      const href = field.type === "url" ? safeUrl(value) : null;
      list.append(el("dt", {text: field.label}),
                  el("dd", {}, href ? el("a", {href, target: "_blank", rel: "noopener noreferrer", text: shown}) : shown));
    }
    if (props.theme) list.append(el("dt", {text: t("form.theme")}), el("dd", {text: props.theme}));
    if (list.childElementCount) nodes.push(list);
    if (props.official_answer) {
      nodes.push(el("p", {}, el("strong", {text: t("popup.official_answer") + ": "}), props.official_answer));
    }
    return nodes;
  }

  function votingBlock(state, pin, message) {
    const wrap = el("div", {class: "mapsvc-voting"});
    wrap.append(el("p", {class: "mapsvc-votes", text: votesText(pin.vote_count)}));
    if (!state.cfg.voting.enabled || !state.cfg.open) return wrap;
    if (!config.user) {
      wrap.append(el("p", {}, t("auth.login_to_contribute") + " ",
                     el("a", {href: config.loginUrl, target: config.embed ? "_blank" : null, text: t("auth.login")})));
      return wrap;
    }
    const actions = el("div", {class: "mapsvc-actions"});
    if (pin.voted) {
      wrap.append(el("p", {class: "mapsvc-ok", text: t("popup.supported")}));
      actions.append(el("button", {type: "button", class: "mapsvc-unvote", text: t("popup.unsupport"),
                                   onclick: () => vote(state.cfg.slug, pin.id, false, message)}));
    } else {
      actions.append(el("button", {type: "button", class: "mapsvc-vote mapsvc-primary", text: t("popup.support"),
                                   onclick: () => vote(state.cfg.slug, pin.id, true, message)}));
    }
    wrap.append(actions);
    if (state.votesLeft === undefined && state.cfg.voting.votesPerPerson) loadVotesLeft(state);
    if (state.votesLeft !== undefined && state.votesLeft !== null) {
      wrap.append(el("p", {class: "mapsvc-votes-left", text: t("popup.votes_left", {n: state.votesLeft})}));
    }
    return wrap;
  }

  async function loadVotesLeft(state) {
    state.votesLeft = null;
    const res = await api("GET", state.cfg.featuresUrl.replace(/\/features$/, "/my-votes"));
    if (res.ok) { state.votesLeft = res.data.votes_left; for (const id of state.markers.keys()) refreshPin(state, id); }
  }

  async function vote(slug, id, on, message) {
    const state = layers.get(slug);
    const res = await api(on ? "POST" : "DELETE", state.cfg.featuresUrl + "/" + id + "/vote");
    if (!res.ok) {
      if (message) { message.className = "mapsvc-message mapsvc-error"; message.textContent = errorText(res.error); }
      return false;
    }
    const pin = state.pins.get(id);
    if (pin) { pin.vote_count = res.data.vote_count; pin.voted = res.data.voted; }
    if (res.data.votes_left !== undefined) state.votesLeft = res.data.votes_left;
    refreshPin(state, id);
    return true;
  }

  // ------------------------------------------------------------------ start
  let moveTimer = null;
  map.on("moveend", () => { clearTimeout(moveTimer); moveTimer = setTimeout(() => loadAll(false), 80); });
  map.on("overlayadd", (event) => { for (const state of layers.values()) if (event.layer === state.group) load(state, false); });
  if (config.tiles && window[config.tiles]) {
    window[config.tiles].once("tileerror", () => setStatus(t("page.tiles_off")));
  }
  if (config.dataAttribution && map.attributionControl) {
    const holder = document.createElement("span");
    holder.textContent = config.dataAttribution;
    map.attributionControl.addAttribution(holder.innerHTML);  // the attribution control takes HTML: escaped
  }

  window.mapsvc = {
    config, map, layers, t, el, api, errorText, setStatus, votesText, addPin, removePin, refreshPin, openPopup, vote,
    loadAll, setCsrf: (token) => { csrf = token; },
  };
  loadAll(true);
})();

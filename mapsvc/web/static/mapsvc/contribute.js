/* Drop a pin (click the map → form → POST), handle nearby duplicates and errors in Dutch, edit or
 * withdraw one's own submitted pins. Polygon layers take a point here (a point on the roof). */
(function () {
  "use strict";

  const M = window.mapsvc;
  const {config, map, t, el, api, errorText} = M;
  const panel = document.getElementById("mapsvc-form-panel");
  let form = null;   // what the panel holds now: {mode, state, latlng, id, geometry, draft}

  function openLayers() {
    return [...M.layers.values()].filter((s) => s.cfg.open && map.hasLayer(s.group));
  }

  function draftIcon() {
    return L.divIcon({html: el("span", {class: "mapsvc-pin is-draft"}), className: "mapsvc-pin-icon mapsvc-draft",
                      iconSize: [18, 18], iconAnchor: [9, 9]});
  }

  map.on("click", (event) => {
    const candidates = openLayers();
    if (!candidates.length) return;
    if (!config.user) {
      const link = el("a", {href: config.loginUrl, target: config.embed ? "_blank" : null, text: t("auth.login")});
      L.popup().setLatLng(event.latlng)
        .setContent(el("div", {class: "mapsvc-popup mapsvc-login-prompt"}, el("p", {text: t("auth.login_to_contribute")}), link))
        .openOn(map);
      return;
    }
    if (form && form.mode === "new") { moveDraft(event.latlng); return; }
    openNewForm(event.latlng, candidates);
  });

  // The same form without a mouse (listview.js: coordinates or an address). Says what happened; the focus
  // goes to the form, and back to `opener` when the form closes.
  function openAt(lat, lon, opener) {
    const candidates = openLayers();
    if (!candidates.length) return "closed";
    if (!config.user) return "login";
    const latlng = L.latLng(lat, lon);
    map.setView(latlng, Math.max(map.getZoom(), 17), {animate: false});
    if (form && form.mode === "new") {
      moveDraft(latlng);
      const first = panel.querySelector("input, textarea, select");
      if (first) first.focus();
    } else {
      openNewForm(latlng, candidates);
    }
    form.opener = opener || null;
    return "opened";
  }

  function moveDraft(latlng) {
    form.latlng = latlng;
    form.draft.setLatLng(latlng);
    const where = panel.querySelector(".mapsvc-location");
    if (where) where.textContent = locationText(latlng);
  }

  function locationText(latlng) {
    return t("form.location", {lat: latlng.lat.toFixed(5), lon: latlng.lng.toFixed(5)});
  }

  function closeForm() {
    if (form && form.draft) map.removeLayer(form.draft);
    // A keyboard user who opened the form from elsewhere gets the focus back there.
    const back = form && form.opener && panel.contains(document.activeElement) ? form.opener : null;
    form = null;
    panel.replaceChildren();
    panel.hidden = true;
    if (back && back.isConnected) back.focus();
  }

  function openNewForm(latlng, candidates) {
    closeForm();
    form = {mode: "new", state: candidates[0], candidates, latlng,
            draft: L.marker(latlng, {icon: draftIcon(), interactive: false, keyboard: false}).addTo(map)};
    render({});
  }

  async function openEditForm(state, pin) {
    closeForm();
    const res = await api("GET", state.cfg.featuresUrl + "/" + pin.id);
    if (!res.ok) { M.setStatus(errorText(res.error)); return; }
    map.closePopup();
    form = {mode: "edit", state, candidates: [state], id: pin.id, geometry: res.data.geometry, latlng: null, draft: null};
    render(res.data.properties || {});
  }

  // ------------------------------------------------------------------ the form
  function render(values) {
    const state = form.state;
    const heading = el("h2", {id: "mapsvc-form-heading", text: form.mode === "new" ? t("form.new_heading") : t("form.edit_heading")});
    const node = el("form", {class: "mapsvc-pin-form", novalidate: true, "aria-labelledby": "mapsvc-form-heading"});
    if (form.candidates.length > 1) {
      const select = el("select", {id: "mapsvc-f-_layer", name: "_layer"},
        form.candidates.map((s) => el("option", {value: s.cfg.slug, selected: s === state, text: s.cfg.title})));
      select.addEventListener("change", () => {
        form.state = M.layers.get(select.value);
        render(currentValues());
      });
      node.append(el("label", {for: "mapsvc-f-_layer", text: t("form.layer")}), select);
    }
    if (form.latlng) node.append(el("p", {class: "mapsvc-location mapsvc-hint", text: locationText(form.latlng)}));
    if (state.cfg.geometryType !== "point") node.append(el("p", {class: "mapsvc-hint", text: t("form.point_on_roof")}));
    for (const field of state.cfg.fields) node.append(...fieldRow(field, values[field.name]));
    if (state.cfg.themes.length) {
      const select = el("select", {id: "mapsvc-f-theme", name: "theme"}, el("option", {value: "", text: t("form.no_theme")}),
        state.cfg.themes.map((theme) => el("option", {value: theme, selected: values.theme === theme,
                                                       text: (state.cfg.themeLabels || {})[theme] || theme})));
      node.append(el("label", {for: "mapsvc-f-theme", text: t("form.theme")}), select,
                  el("p", {class: "mapsvc-field-error", id: "mapsvc-e-theme", "aria-live": "polite"}));
    }
    node.append(el("div", {class: "mapsvc-form-error mapsvc-error", role: "alert"}),
                el("div", {class: "mapsvc-nearby-box"}),
                el("div", {class: "mapsvc-actions"},
                   el("button", {type: "submit", class: "mapsvc-primary", text: form.mode === "new" ? t("form.submit") : t("form.save")}),
                   el("button", {type: "button", text: t("form.cancel"), onclick: closeForm})));
    node.addEventListener("submit", (event) => { event.preventDefault(); submit(false); });
    panel.replaceChildren(heading, node);
    panel.hidden = false;
    const first = node.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  function fieldRow(field, value) {
    const id = "mapsvc-f-" + field.name;
    const hints = [];
    if (field.required) hints.push(t("form.required"));
    if (field.maxLength) hints.push(t("form.max_length", {n: field.maxLength}));
    const label = el("label", {for: id}, field.label, hints.length ? el("span", {class: "mapsvc-hint", text: " (" + hints.join(", ") + ")"}) : null);
    const common = {id, name: field.name, "aria-required": field.required ? "true" : null, "aria-describedby": "mapsvc-e-" + field.name};
    let input;
    if (field.type === "text") {
      input = el("textarea", Object.assign({rows: 4, maxlength: field.maxLength}, common));
      input.value = value == null ? "" : String(value);
    } else if (field.type === "boolean" || field.type === "enum") {
      const options = field.type === "boolean"
        ? [{value: "true", label: t("form.yes")}, {value: "false", label: t("form.no")}] : field.choices;
      input = el("select", common, el("option", {value: "", text: t("form.unknown")}),
                 options.map((c) => el("option", {value: c.value, selected: value != null && String(value) === c.value, text: c.label})));
    } else {
      // Numbers with decimals are text with a decimal keyboard: Belgians write 12,5 and the browser's
      // number input would refuse the comma.
      const type = {integer: "number", url: "url", date: "date"}[field.type] || "text";
      const numeric = field.type === "integer" || field.type === "number";
      input = el("input", Object.assign({type, inputmode: field.type === "number" ? "decimal" : null,
                                         maxlength: numeric ? null : field.maxLength, step: field.type === "integer" ? 1 : null,
                                         min: type === "number" ? field.min : null, max: type === "number" ? field.max : null},
                                        common));
      input.value = value == null ? "" : String(value);
    }
    return [label, input, el("p", {class: "mapsvc-field-error", id: "mapsvc-e-" + field.name, "aria-live": "polite"})];
  }

  function readValue(field, input) {
    const raw = input.value.trim();
    if (raw === "") return undefined;
    if (field.type === "boolean") return raw === "true";
    if (field.type === "integer" && /^[+-]?\d+$/.test(raw)) return parseInt(raw, 10);
    if (field.type === "number" && /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/.test(raw)) return parseFloat(raw.replace(",", "."));
    return raw;  // the server says what is wrong with it
  }

  function currentValues() {
    const values = {};
    for (const input of panel.querySelectorAll("input[name], textarea[name], select[name]")) values[input.name] = input.value;
    return values;
  }

  function showProblem(problem) {
    const slot = problem.field ? panel.querySelector("#mapsvc-e-" + CSS.escape(problem.field)) : null;
    const field = form.state.cfg.fields.find((f) => f.name === problem.field) || {};
    const text = errorText({code: problem.code}, {max: field.maxLength || ""});
    if (slot) { slot.textContent = text; return; }
    panel.querySelector(".mapsvc-form-error").append(el("p", {text}));
  }

  async function submit(allowNearby) {
    const state = form.state;
    const button = panel.querySelector("button[type=submit]");
    for (const slot of panel.querySelectorAll(".mapsvc-field-error, .mapsvc-form-error, .mapsvc-nearby-box")) slot.replaceChildren();
    const properties = {};
    for (const field of state.cfg.fields) {
      const value = readValue(field, panel.querySelector("#mapsvc-f-" + CSS.escape(field.name)));
      if (value !== undefined) properties[field.name] = value;
    }
    const theme = panel.querySelector("#mapsvc-f-theme");
    if (theme && theme.value) properties.theme = theme.value;
    const geometry = form.mode === "edit" ? form.geometry : {type: "Point", coordinates: [form.latlng.lng, form.latlng.lat]};
    const url = form.mode === "edit" ? state.cfg.featuresUrl + "/" + form.id
      : state.cfg.featuresUrl + (allowNearby ? "?allow_nearby=true" : "");
    button.disabled = true;
    const res = await api(form.mode === "edit" ? "PUT" : "POST", url, {type: "Feature", geometry, properties});
    button.disabled = false;
    if (res.ok) { saved(state, res.data); return; }
    const error = res.error || {};
    if (res.status === 409 && error.code === "nearby_duplicates") { showNearby(state, (error.details || {}).nearby || []); return; }
    const problems = (error.details || {}).problems;
    if (Array.isArray(problems) && problems.length) {
      if (!problems.some((p) => p.field === null || p.field === undefined)) showProblem({field: null, code: error.code});
      problems.forEach(showProblem);
      return;
    }
    showProblem({field: null, code: error.code});
  }

  function pinFrom(feature, previous) {
    const props = feature.properties || {};
    const geometry = feature.geometry;
    let lon, lat;
    if (geometry.type === "Point") [lon, lat] = geometry.coordinates;
    else { const b = L.geoJSON(geometry).getBounds(); lon = b.getCenter().lng; lat = b.getCenter().lat; }
    return {id: feature.id, lon, lat, title: props.title || props.name || null, theme: props.theme || null,
            status: props.status || null, vote_count: props.vote_count || 0, demo: Boolean(props.demo), mine: true,
            visibility: props.visibility || (previous ? previous.visibility : undefined),
            voted: previous ? previous.voted : false, outline: geometry.type === "Point" ? undefined : geometry};
  }

  function saved(state, feature) {
    const previous = state.pins.get(feature.id);
    const mode = form.mode;
    closeForm();
    state.details.set(feature.id, feature);
    M.addPin(state.cfg.slug, pinFrom(feature, previous));
    const pending = (feature.properties || {}).visibility === "pending";  // pre-moderated layer
    const done = pending ? t("moderation.pending_saved") : mode === "new" ? t("form.saved") : t("form.updated");
    if (mode === "new" && feature.follow_offer) M.offerFollow(state, done); else M.setStatus(done);
    M.openPopup(state.cfg.slug, feature.id);
  }

  function showNearby(state, nearby) {
    const box = panel.querySelector(".mapsvc-nearby-box");
    const message = el("p", {class: "mapsvc-message", role: "status"});
    const list = el("ul", {class: "mapsvc-nearby"}, nearby.map((item) => el("li", {"data-feature-id": item.id},
      el("strong", {text: item.title || t("map.untitled")}), el("br"),
      t("dup.distance", {m: Math.round(item.distance_m)}) + " · " + M.votesText(item.vote_count || 0), el("br"),
      el("button", {type: "button", class: "mapsvc-primary mapsvc-support-nearby", text: t("dup.support"),
                    onclick: async () => {
                      const voted = await M.vote(state.cfg.slug, item.id, true, message);
                      if (voted) {
                        closeForm();
                        if (voted !== "offered") M.setStatus(t("popup.supported"));
                        M.loadAll(true);
                      }
                    }}))));
    box.replaceChildren(el("h3", {text: t("dup.heading")}), el("p", {text: t("dup.explain")}), list, message,
      el("button", {type: "button", class: "mapsvc-create-anyway", text: t("dup.create_anyway"), onclick: () => submit(true)}));
    box.scrollIntoView({block: "nearest"});
  }

  // ------------------------------------------------------------------ own pins: edit, withdraw
  function ownPinActions(state, pin, message) {
    const actions = el("div", {class: "mapsvc-actions mapsvc-own"});
    const withdraw = el("button", {type: "button", class: "mapsvc-withdraw", text: t("popup.withdraw")});
    withdraw.addEventListener("click", async () => {
      if (withdraw.dataset.confirm !== "yes") {   // a second click confirms; no native dialog
        withdraw.dataset.confirm = "yes";
        withdraw.textContent = t("popup.withdraw_confirm");
        return;
      }
      const res = await api("DELETE", state.cfg.featuresUrl + "/" + pin.id);
      if (!res.ok) { message.className = "mapsvc-message mapsvc-error"; message.textContent = errorText(res.error); return; }
      M.removePin(state.cfg.slug, pin.id);
      M.setStatus(t("form.withdrawn"));
    });
    actions.append(el("button", {type: "button", class: "mapsvc-edit", text: t("popup.edit"), onclick: () => openEditForm(state, pin)}),
                   withdraw);
    return actions;
  }

  // ------------------------------------------------------------------ logging in from an embedded map
  // On the municipality's own site the frame is cross-site: the browser keeps mapsvc's session cookie out
  // of it. So the login link opens a first-party popup (/login/embedded) that logs in and posts the frame a
  // token of its own (embed_login.js); the frame keeps it in memory (and in sessionStorage where the browser
  // lets a cross-site frame have storage) and sends it as a Bearer header.
  // A same-site embed also picks up an ordinary login when it gets the focus back (refreshUser).
  const TOKEN_KEY = "mapsvc-embed-token";
  let loginPopup = null;
  let frameToken = null;   // this frame's own login token, when it has one

  function signedIn(user) {
    config.user = {id: user.id, name: user.display_name || t("auth.anonymous_name")};
    const bar = document.getElementById("mapsvc-auth");
    if (bar) {
      const children = [el("span", {text: t("auth.logged_in_as", {name: config.user.name})})];
      if (frameToken) {
        children.push(" ", el("button", {type: "button", id: "mapsvc-embed-logout", text: t("auth.logout"), onclick: logOut}));
      }
      bar.replaceChildren(...children);
    }
    for (const state of M.layers.values()) state.loaded = null;
    M.loadAll(true);
    document.dispatchEvent(new CustomEvent("mapsvc:user-changed"));
  }

  function storedToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY); } catch (err) { return null; }
  }

  function storeToken(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token); else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (err) { /* storage refused (privacy settings): the token lives as long as the page */ }
  }

  async function refreshUser() {
    if (config.user) return;
    const res = await api("GET", config.meUrl);
    if (!res.ok || !res.data || !res.data.user) {
      if (frameToken) { frameToken = null; storeToken(null); M.setBearer(null); }  // expired or revoked
      return;
    }
    if (res.data.csrf_token) M.setCsrf(res.data.csrf_token);
    signedIn(res.data.user);
  }

  async function logOut() {
    await api("DELETE", config.embedTokenUrl);
    frameToken = null;
    storeToken(null);
    M.setBearer(null);
    config.user = null;
    const bar = document.getElementById("mapsvc-auth");
    if (bar) bar.replaceChildren(el("a", {href: config.loginUrl, id: "mapsvc-login", target: "_blank", text: t("auth.login")}));
    for (const state of M.layers.values()) state.loaded = null;
    M.loadAll(true);
    document.dispatchEvent(new CustomEvent("mapsvc:user-changed"));
  }

  if (config.embed) {
    document.addEventListener("click", (event) => {
      const link = event.target.closest && event.target.closest("a");
      if (!link || config.user || (link.id !== "mapsvc-login" && link.getAttribute("href") !== config.loginUrl)) return;
      event.preventDefault();
      loginPopup = window.open(config.embedLoginUrl, "mapsvc-login", "popup,width=520,height=640");
      if (!loginPopup) M.setStatus(t("auth.popup_blocked"), true, "error");
    });
    window.addEventListener("message", (event) => {
      const data = event.data;
      if (event.origin !== window.location.origin || !data || data.type !== "mapsvc-login" || !data.token) return;
      if (loginPopup && event.source !== loginPopup) return;
      frameToken = data.token;
      storeToken(data.token);
      M.setBearer(data.token);
      signedIn(data.user);
    });
    if (!config.user && storedToken()) {
      frameToken = storedToken();
      M.setBearer(frameToken);
      refreshUser();
    }
  }
  window.addEventListener("focus", refreshUser);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refreshUser(); });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && form) closeForm(); });

  window.mapsvcContribute = {ownPinActions, closeForm, openAt};
})();

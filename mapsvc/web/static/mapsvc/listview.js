/* The keyboard way into a suggestion layer (templates/_list_view.html): place a pin by coordinates or by
 * address (through mapsvc's own /api/geocode), and the layer's suggestions as a sortable, paged list with a
 * support button per row (the same vote API as the popups). Every text from the data goes in as text. */
(function () {
  "use strict";

  const M = window.mapsvc;
  const root = document.getElementById("mapsvc-list");
  if (!M || !root) return;
  const {config, map, t, el, api, errorText, votesText} = M;
  const state = M.layers.get(root.dataset.layer);
  const body = root.querySelector("tbody");
  const listStatus = document.getElementById("mapsvc-list-status");
  const more = document.getElementById("mapsvc-list-more");
  const PAGE = 20;
  const MAX = 200;
  const FINISHED = new Set(["rejected", "realised"]);
  let sort = "votes";
  let items = [];
  let total = 0;
  let nextOffset = null;
  let request = 0;       // answers of older requests are dropped
  let reloadTimer = null;
  // The last thing said about the person's own action (a vote, a sort): kept after the count when the list
  // is drawn again (a reload after the map moved must not wipe what a screen reader is about to read).
  let said = "";

  // ------------------------------------------------------------------ the list
  async function load(reset, size) {
    const mine = ++request;
    const offset = reset ? 0 : items.length;
    const limit = Math.min(MAX, size || PAGE);
    if (reset && !items.length) listStatus.textContent = t("access.list_loading");
    const res = await api("GET", root.dataset.url + "?sort=" + sort + "&limit=" + limit + "&offset=" + offset);
    if (mine !== request) return false;
    if (!res.ok) { listStatus.textContent = t("access.list_failed") + " " + errorText(res.error); return false; }
    const data = res.data;
    total = data.total;
    nextOffset = data.next_offset;
    if (data.votes_left !== undefined) state.votesLeft = data.votes_left;
    items = reset ? data.items : items.concat(data.items);
    render();
    return true;
  }

  function countText() {
    return total === 1 ? t("access.list_count_one") : t("access.list_count", {n: total});
  }

  function render() {
    const focused = document.activeElement && body.contains(document.activeElement)
      ? {id: document.activeElement.closest("tr").dataset.featureId, role: document.activeElement.dataset.role} : null;
    body.replaceChildren(...items.map(row));
    if (!items.length) body.append(el("tr", {}, el("td", {colspan: 4, text: t("access.list_empty")})));
    listStatus.textContent = total ? countText() + ". " + t("access.list_shown", {shown: items.length, total}) : "";
    if (!config.user && state.cfg.open && state.cfg.voting.enabled && total) {
      listStatus.append(" ", el("a", {href: config.loginUrl, target: config.embed ? "_blank" : null, text: t("access.login_first")}));
    }
    if (said) listStatus.append(" ", said);
    more.hidden = nextOffset === null;
    more.textContent = t("access.show_more", {shown: items.length, total});
    for (const th of root.querySelectorAll("th[aria-sort], th[id^='mapsvc-sort']")) th.removeAttribute("aria-sort");
    if (sort === "votes") document.getElementById("mapsvc-sort-votes-th").setAttribute("aria-sort", "descending");
    else document.getElementById("mapsvc-sort-date-th").setAttribute("aria-sort", sort === "newest" ? "descending" : "ascending");
    if (focused) {
      const again = body.querySelector(`tr[data-feature-id="${CSS.escape(focused.id)}"] [data-role="${focused.role}"]`);
      if (again) again.focus();
    }
  }

  function marks(item) {
    const found = [];
    if (item.mine) found.push(t("access.mine"));
    if (item.voted) found.push(t("access.voted"));
    if (item.pending) found.push(t("access.pending"));
    if (item.demo) found.push(t("access.demo"));
    return found;
  }

  function dateText(iso) {
    const when = new Date(iso);
    return isNaN(when) ? "" : when.toLocaleDateString(document.documentElement.lang || "nl", {day: "numeric", month: "short", year: "numeric"});
  }

  function row(item) {
    const title = item.title || t("map.untitled");
    const meta = [item.theme ? t("form.theme") + ": " + ((state.cfg.themeLabels || {})[item.theme] || item.theme) : null, item.status ? t("status." + item.status) : null]
      .filter(Boolean).join(" · ");
    const flags = marks(item);
    const classes = ["mapsvc-list-row"];
    if (item.mine) classes.push("is-mine");
    if (item.voted) classes.push("is-voted");
    return el("tr", {class: classes.join(" "), "data-feature-id": item.id},
      el("td", {},
        el("button", {type: "button", class: "mapsvc-list-show", "data-role": "show", text: title,
                      "aria-label": t("access.show_on_map", {title}), onclick: () => show(item)}),
        flags.length ? el("span", {class: "mapsvc-list-marks", text: flags.join(", ")}) : null,
        meta ? el("span", {class: "mapsvc-list-meta", text: meta}) : null),
      el("td", {class: "mapsvc-list-votes", "data-votes": item.vote_count, text: votesText(item.vote_count)}),
      el("td", {class: "mapsvc-list-date"}, el("time", {datetime: item.created_at, text: dateText(item.created_at)})),
      el("td", {}, voteButton(item, title)));
  }

  function voteButton(item, title) {
    if (!config.user || !state.cfg.open || !state.cfg.voting.enabled || FINISHED.has(item.status)) return null;
    return el("button", {type: "button", "data-role": "vote",
                         class: item.voted ? "mapsvc-list-unvote" : "mapsvc-list-vote mapsvc-primary",
                         text: item.voted ? t("popup.unsupport") : t("popup.support"),
                         "aria-label": t(item.voted ? "access.unsupport_named" : "access.support_named", {title}),
                         onclick: (event) => vote(item, event.currentTarget)});
  }

  async function vote(item, button) {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");   // not `disabled`: that would throw the keyboard focus away
    const res = await api(item.voted ? "DELETE" : "POST", state.cfg.featuresUrl + "/" + item.id + "/vote");
    button.removeAttribute("aria-busy");
    const title = item.title || t("map.untitled");
    if (!res.ok) { said = errorText(res.error); render(); return; }
    item.vote_count = res.data.vote_count;
    item.voted = res.data.voted;
    if (res.data.votes_left !== undefined) state.votesLeft = res.data.votes_left;
    const pin = state.pins.get(item.id);
    let text = t(item.voted ? "access.supported_now" : "access.unsupported_now", {title, votes: votesText(item.vote_count)});
    if (state.votesLeft !== undefined && state.votesLeft !== null) text += " " + t("access.votes_left", {n: state.votesLeft});
    said = text;
    if (pin) { pin.vote_count = item.vote_count; pin.voted = item.voted; pin.changedAt = performance.now(); M.refreshPin(state, item.id); }
    render();
  }

  function show(item) {
    // Centre the map on it, then open its popup once the view's pins are there (and put the focus in it).
    map.setView([item.lat, item.lon], Math.max(map.getZoom(), 18), {animate: false});
    // The move makes the map fetch the new view's pins, which redraws the markers (and would close a popup
    // opened before): wait until that load has begun and ended, or half a second passed without one.
    let tries = 0, loadSeen = false;
    const wait = () => {
      const busy = M.pending() > 0;
      loadSeen = loadSeen || busy;
      if ((loadSeen || tries >= 5) && !busy && state.markers.has(item.id)) { M.openPopup(state.cfg.slug, item.id); return; }
      if (++tries < 100) setTimeout(wait, 100);
    };
    wait();
  }

  function reload() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => load(true, Math.max(PAGE, items.length)), 150);
  }

  for (const button of root.querySelectorAll("button.mapsvc-sort")) {
    button.addEventListener("click", () => {
      const wanted = button.dataset.sort === "votes" ? "votes" : (sort === "newest" ? "oldest" : "newest");
      sort = wanted;
      load(true, Math.max(PAGE, items.length)).then((ok) => {
        if (ok) { said = t("access.sorted", {sort: t("access.sort_" + sort)}); render(); }
      });
    });
  }
  more.addEventListener("click", async () => {
    const first = items.length;
    if (await load(false) && items.length > first) {
      const next = body.querySelectorAll("tr")[first];
      const target = next && next.querySelector("button");
      if (target) target.focus();
    }
  });
  // The map's own changes (a pin placed or withdrawn, a vote in a popup, a login) show up in the list too.
  document.addEventListener("mapsvc:pins-changed", (event) => { if (event.detail.slug === state.cfg.slug) reload(); });
  document.addEventListener("mapsvc:pin-changed", (event) => {
    if (event.detail.slug !== state.cfg.slug) return;
    const pin = state.pins.get(event.detail.id);
    const item = items.find((i) => i.id === event.detail.id);
    if (!pin || !item || (pin.vote_count === item.vote_count && pin.voted === item.voted)) return;
    item.vote_count = pin.vote_count;
    item.voted = pin.voted;
    render();
  });

  document.addEventListener("mapsvc:user-changed", reload);

  // ------------------------------------------------------------------ placing a pin without the map
  const coordsForm = document.getElementById("mapsvc-coords-form");
  const placeStatus = document.getElementById("mapsvc-place-status");
  const NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

  function number(text) {
    const value = text.trim();
    return NUMBER.test(value) ? parseFloat(value.replace(",", ".")) : NaN;
  }

  function parseCoordinates(latText, lonText) {
    let a = latText.trim();
    let b = lonText.trim();
    if (!b) {   // both in the first box: "50.85, 2.72", "50.85 2.72", "50,85; 2,72"
      const pair = a.match(/^([+-]?\d+(?:[.,]\d+)?)\s*(?:[,;]\s*|\s+)([+-]?\d+(?:[.,]\d+)?)$/);
      if (pair) { a = pair[1]; b = pair[2]; }
    }
    const lat = number(a);
    const lon = number(b);
    if (!isFinite(lat) || !isFinite(lon)) return {error: t("access.coords_invalid")};
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return {error: t("access.coords_range")};
    return {lat, lon};
  }

  function placeAt(lat, lon, opener) {
    const contribute = window.mapsvcContribute;
    const outcome = contribute && contribute.openAt ? contribute.openAt(lat, lon, opener) : "closed";
    if (outcome === "login") {
      const link = el("a", {href: config.loginUrl, target: config.embed ? "_blank" : null, text: t("auth.login")});
      placeStatus.replaceChildren(t("access.login_first") + " ", link);
      link.focus();
    } else if (outcome === "closed") {
      placeStatus.textContent = t("access.no_layer_open");
    } else {
      placeStatus.textContent = t("access.form_opened", {lat: lat.toFixed(5), lon: lon.toFixed(5)});
    }
  }

  if (coordsForm) {
    const error = document.getElementById("mapsvc-coords-error");
    coordsForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const latInput = document.getElementById("mapsvc-lat");
      const parsed = parseCoordinates(latInput.value, document.getElementById("mapsvc-lon").value);
      if (parsed.error) {
        error.textContent = parsed.error;
        latInput.setAttribute("aria-invalid", "true");
        latInput.focus();
        return;
      }
      error.textContent = "";
      latInput.removeAttribute("aria-invalid");
      placeAt(parsed.lat, parsed.lon, document.getElementById("mapsvc-coords-submit"));
    });
  }

  const addressForm = document.getElementById("mapsvc-address-form");
  if (addressForm) {
    const input = document.getElementById("mapsvc-address");
    const results = document.getElementById("mapsvc-address-results");
    addressForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const query = input.value.trim();
      if (!query) { placeStatus.textContent = t("access.address_empty"); input.focus(); return; }
      placeStatus.textContent = t("access.address_searching");
      results.replaceChildren();
      const url = addressForm.dataset.url + "?platform=" + encodeURIComponent(addressForm.dataset.platform) +
        "&q=" + encodeURIComponent(query);
      const res = await api("GET", url);
      if (!res.ok) { placeStatus.textContent = t("access.address_failed"); return; }
      const found = res.data.results;
      if (!found.length) { placeStatus.textContent = t("access.address_none", {platform: config.platform.name}); return; }
      const list = el("ul", {class: "mapsvc-address-list", "aria-labelledby": "mapsvc-address-results-heading"},
        found.map((place) => el("li", {}, el("button", {type: "button", class: "mapsvc-address-choice", text: place.label,
          onclick: (e) => placeAt(place.lat, place.lon, e.currentTarget)}))));
      results.replaceChildren(el("p", {id: "mapsvc-address-results-heading", class: "mapsvc-hint", text: t("access.address_results")}), list);
      placeStatus.textContent = t("access.address_count", {n: found.length});
      list.querySelector("button").focus();
    });
  }

  window.mapsvcList = {reload, items: () => items};
  load(true);
})();

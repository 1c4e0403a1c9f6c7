/* Pin popups (title, status, details, the layer's fields, the official answer) and voting in them.
 * Built with DOM APIs only: titles and descriptions are residents' text and are shown as text. */
(function () {
  "use strict";

  const M = window.mapsvc;
  const {config, layers, t, el, api, errorText, votesText, refreshPin} = M;

  function safeUrl(value) {
    try {
      const url = new URL(String(value));
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) { return null; }
  }

  function popupContent(state, id) {
    const pin = state.pins.get(id);
    const box = el("div", {class: "mapsvc-popup", "data-feature-id": id});
    if (!pin) return box;
    box.append(el("h3", {text: pin.title || t("map.untitled")}));
    if (pin.demo) box.append(el("span", {class: "mapsvc-badge", text: t("popup.demo")}));
    if (pin.status) box.append(el("p", {class: "mapsvc-pin-status", text: t("status." + pin.status)}));
    if (pin.visibility === "pending") box.append(el("p", {class: "mapsvc-pending", text: t("moderation.pending_note")}));
    const detail = el("div", {class: "mapsvc-detail"});
    box.append(detail);
    fillDetail(state, id, detail);
    const message = el("p", {class: "mapsvc-message", role: "status"});
    if (state.cfg.kind === "suggestions") box.append(votingBlock(state, pin, message));
    if (pin.mine && pin.status === "submitted" && state.cfg.open && window.mapsvcContribute) {
      box.append(window.mapsvcContribute.ownPinActions(state, pin, message));
    }
    if (config.user && !pin.mine && pin.visibility !== "pending") box.append(flagBlock(state, pin, message));
    if (config.user && pin.visibility !== "pending") box.append(followButton(state, pin, message));
    box.append(message);
    return box;
  }

  // "Meld deze pin": a logged-in person asks the moderators to look at a pin, once (a reason is optional).
  function flagBlock(state, pin, message) {
    const wrap = el("div", {class: "mapsvc-flag"});
    state.flagged = state.flagged || new Set();
    if (state.flagged.has(pin.id)) {
      wrap.append(el("p", {class: "mapsvc-ok", text: t("moderation.flag_done")}));
      return wrap;
    }
    const fieldId = "mapsvc-flag-reason-" + state.cfg.slug + "-" + pin.id;
    const reason = el("textarea", {id: fieldId, rows: 2, maxlength: 500});
    const form = el("form", {class: "mapsvc-flag-form", hidden: true},
      el("label", {for: fieldId, text: t("moderation.flag_reason")}), reason,
      el("div", {class: "mapsvc-actions"},
         el("button", {type: "submit", class: "mapsvc-primary", text: t("moderation.flag_send")}),
         el("button", {type: "button", text: t("moderation.flag_cancel"),
                       onclick: () => { form.hidden = true; open.setAttribute("aria-expanded", "false"); open.focus(); }})));
    const open = el("button", {type: "button", class: "mapsvc-flag-open", "aria-expanded": "false",
                               text: t("moderation.flag"),
                               onclick: () => { form.hidden = false; open.setAttribute("aria-expanded", "true"); reason.focus(); }});
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      const res = await api("POST", state.cfg.featuresUrl + "/" + pin.id + "/flag", text ? {reason: text} : {});
      if (res.ok || (res.error && res.error.code === "already_flagged")) state.flagged.add(pin.id);
      if (!res.ok) {
        const key = "moderation.error." + ((res.error && res.error.code) || "");
        message.className = "mapsvc-message mapsvc-error";
        message.textContent = Object.prototype.hasOwnProperty.call(config.messages, key) ? t(key) : errorText(res.error);
        return;
      }
      wrap.replaceChildren(el("p", {class: "mapsvc-ok", text: t("moderation.flag_done")}));
    });
    wrap.append(open, form);
    return wrap;
  }

  // "Volg dit voorstel": e-mail when there is news about this pin (following twice changes nothing).
  function followButton(state, pin, message) {
    return el("button", {type: "button", class: "mapsvc-follow", text: t("following.popup.follow"), onclick: async () => {
      const res = await api("POST", state.cfg.featuresUrl + "/" + pin.id + "/follow");
      message.className = "mapsvc-message " + (res.ok ? "mapsvc-ok" : "mapsvc-error");
      message.textContent = res.ok ? t("following.popup.followed") : errorText(res.error);
    }});
  }

  // After a new pin or a vote the server may say follow_offer: ask (never subscribe on its own) in the status line.
  function offerFollow(state, done) {
    M.setStatus(done + " " + t("following.offer.text") + " ", true, "follow-offer");
    const box = document.getElementById("mapsvc-status");
    box.append(el("button", {type: "button", class: "mapsvc-follow-offer", text: t("following.layer.follow"), onclick: async () => {
      const res = await api("POST", state.cfg.featuresUrl.replace(/\/features$/, "/follow"));
      M.setStatus(res.ok ? t("following.layer.following") : errorText(res.error), !res.ok);
    }}), " ", el("button", {type: "button", text: t("following.offer.dismiss"), onclick: () => M.setStatus("")}));
    return "offered";
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
    if (props.theme) list.append(el("dt", {text: t("form.theme")}), el("dd", {text: (state.cfg.themeLabels || {})[props.theme] || props.theme}));
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
    if (pin) { pin.vote_count = res.data.vote_count; pin.voted = res.data.voted; pin.changedAt = performance.now(); }
    if (res.data.votes_left !== undefined) state.votesLeft = res.data.votes_left;
    refreshPin(state, id);
    return on && res.data.follow_offer ? offerFollow(state, t("popup.supported")) : true;
  }

  M.popupContent = popupContent;
  M.offerFollow = offerFollow;
  M.vote = vote;
})();

"""Moderation by officials and moderators; flags by residents: the API and the officials' HTML page.

GET  /api/platforms/{p}/layers/{l}/moderation                 the queue (moderators): ?show=&limit=&offset=
POST /api/platforms/{p}/layers/{l}/features/{id}/hide          {"reason": "..."} (a pending pin: rejected)
POST …/features/{id}/reject                                    {"reason": "..."} a pending pin only
POST …/features/{id}/restore                                   {"reason": "..."} optional
POST …/features/{id}/approve                                   a pending pin
POST …/features/{id}/dismiss-flags                             keep the pin, close its reports
POST …/features/{id}/status                                    {"status": "...", "official_answer": "..."}
POST …/features/{id}/flag                                      {"reason": "..."} optional; logged-in residents
GET  /p/{p}/{l}/moderation                                     the page; its forms POST to …/moderation/{id}/{action}
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from geoalchemy2.shape import to_shape

from mapsvc.errors import BadRequest, MapsvcError
from mapsvc.export.geojson import feature_collection, feature_to_geojson, iso
from mapsvc.layers.status import STATUSES, TRANSITIONS
from mapsvc.services import moderation
from mapsvc.services.permissions import can_answer
from mapsvc.storage.models import Feature, utcnow
from mapsvc.web import params
from mapsvc.web.auth import current_actor, limit, require_login
from mapsvc.web.language import current_language, localised
from mapsvc.web.ui_text import text

bp = Blueprint("moderation", __name__)

FEATURE = "/api/platforms/<platform>/layers/<layer>/features/<feature_id>"
PAGE_SIZE = 100


def _database():
    return current_app.extensions["mapsvc.db"]


def _body() -> dict[str, Any]:
    """The JSON object sent (an empty body counts as {})."""
    if not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object with Content-Type: application/json.", code="invalid_json")
    return body


def _only(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(map(str, unknown))[:200]}; this action takes: "
                         f"{', '.join(allowed) or 'none'}.", code="unknown_field")
    return body


def _state(feature: Feature) -> dict[str, Any]:
    """What a moderator's action answers: the pin's moderation state (no flags' authors, no user ids)."""
    return {"id": feature.id, "visibility": feature.visibility, "status": feature.status,
            "official_answer": feature.official_answer, "moderation_reason": feature.moderation_reason,
            "moderated_at": iso(feature.moderated_at)}


# The actions, by name: (service call, the body fields it reads).
def _hide(s, a, p, l, i, body, now):
    return moderation.hide(s, a, p, l, i, body.get("reason"), now=now)


def _reject(s, a, p, l, i, body, now):
    return moderation.reject(s, a, p, l, i, body.get("reason"), now=now)


def _restore(s, a, p, l, i, body, now):
    return moderation.restore(s, a, p, l, i, body.get("reason"), now=now)


def _approve(s, a, p, l, i, body, now):
    return moderation.approve(s, a, p, l, i, now=now)


def _dismiss(s, a, p, l, i, body, now):
    return moderation.dismiss_flags(s, a, p, l, i, now=now)


def _status(s, a, p, l, i, body, now):
    return moderation.change_status(s, a, p, l, i, body.get("status"), body.get("official_answer"), now=now)


ACTIONS = {"hide": (_hide, ("reason",)), "reject": (_reject, ("reason",)), "restore": (_restore, ("reason",)),
           "approve": (_approve, ()), "dismiss-flags": (_dismiss, ()),
           "status": (_status, ("status", "official_answer"))}


def _act(action: str, platform: str, layer: str, feature_id: str, body: dict[str, Any]) -> dict[str, Any]:
    call, fields = ACTIONS[action]
    actor = require_login()
    body = _only(body, fields)
    with _database().transaction() as session:
        feature = call(session, actor, platform, layer, params.feature_id(feature_id), body, utcnow())
        session.flush()
        return _state(feature)


def _api_action(action: str):
    def view(platform: str, layer: str, feature_id: str):
        params.reject_unknown(request.args, ())
        return _act(action, platform, layer, feature_id, _body())
    view.__name__ = f"api_{action.replace('-', '_')}"
    return view


for _name in ACTIONS:
    bp.add_url_rule(f"{FEATURE}/{_name}", view_func=_api_action(_name), methods=["POST"])


@bp.post(FEATURE + "/flag")
@limit("RATE_LIMIT_PINS")
def flag(platform: str, layer: str, feature_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    body = _only(_body(), ("reason",))
    with _database().transaction() as session:
        moderation.flag(session, actor, platform, layer, params.feature_id(feature_id), body.get("reason"),
                        now=utcnow())
    return {"flagged": True}, 201


def _queue_args(args, default_limit: int):
    show = args.get("show", "all").strip() or "all"
    size = params.whole_number(args, "limit", default=default_limit, low=1, high=moderation.QUEUE_MAX)
    offset = params.whole_number(args, "offset", default=0, low=0, high=params.MAX_OFFSET)
    return show, size, offset


@bp.get("/api/platforms/<platform>/layers/<layer>/moderation")
def queue(platform: str, layer: str):
    params.reject_unknown(request.args, ("show", "limit", "offset"))
    show, size, offset = _queue_args(request.args, PAGE_SIZE)
    found = moderation.moderation_queue(g.db_session, require_login(), platform, layer, show=show, limit=size,
                                        offset=offset)
    features = []
    for row in found.rows:
        body = feature_to_geojson(row.feature, to_shape(row.feature.geom), row.vote_count)
        body["properties"]["moderation"] = {
            "visibility": row.feature.visibility, "reason": row.feature.moderation_reason,
            "moderated_at": iso(row.feature.moderated_at), "open_flags": row.open_flags,
            "flag_reasons": list(row.flag_reasons)}
        features.append(body)
    return feature_collection(features, numberMatched=found.total, numberReturned=len(features), show=found.show,
                              limit=found.limit, offset=found.offset, premoderation=found.layer.premoderation)


# ------------------------------------------------------------------ the officials' page

PAGE_ACTIONS = {"hide", "reject", "restore", "approve", "dismiss-flags", "status"}


def _page_url(platform: str, layer: str, **query: Any) -> str:
    return url_for("moderation.page", platform=platform, layer=layer, **{k: v for k, v in query.items() if v})


def _render(platform: str, layer: str, *, error: str | None = None, done: str | None = None, status: int = 200):
    args = request.args if request.method == "GET" else request.form
    show, size, offset = _queue_args(args, PAGE_SIZE)
    actor = current_actor()
    found = moderation.moderation_queue(g.db_session, actor, platform, layer, show=show, limit=size, offset=offset)
    language = current_language()

    def t(message_id: str, **values: Any) -> str:
        return text(message_id, language, **values)

    rows = [{"row": row, "title": (row.feature.properties or {}).get("title")
             or (row.feature.properties or {}).get("name"),
             "next_statuses": sorted(TRANSITIONS.get(row.feature.status, ()), key=STATUSES.index)}
            for row in found.rows]
    done_text = t("moderation.done." + ("dismiss" if done == "dismiss-flags" else done)) if done else None
    page = render_template("moderation.html", queue=found, rows=rows, t=t, language=language, done=done_text,
                           layer_title=localised(found.layer, "title", language),
                           platform_name=localised(found.platform, "name", language), error=error,
                           shows=moderation.store.SHOW, statuses=STATUSES,
                           can_answer=can_answer(actor, found.platform.id, found.layer.id),
                           previous_url=_page_url(platform, layer, show=show, offset=max(0, offset - size))
                           if offset else None,
                           next_url=_page_url(platform, layer, show=show, offset=offset + size)
                           if offset + size < found.total else None)
    return page, status


def _login_first():
    if not current_actor().is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


@bp.get("/p/<platform>/<layer>/moderation")
def page(platform: str, layer: str):
    params.reject_unknown(request.args, ("show", "limit", "offset", "done"))
    if (response := _login_first()) is not None:
        return response
    done = request.args.get("done")
    return _render(platform, layer, done=done if done in PAGE_ACTIONS else None)


@bp.post("/p/<platform>/<layer>/moderation/<feature_id>/<action>")
def page_action(platform: str, layer: str, feature_id: str, action: str):
    if (response := _login_first()) is not None:
        return response
    if action not in PAGE_ACTIONS:
        raise BadRequest(f"Unknown moderation action {action[:40]!r}.", code="unknown_action")
    form = request.form
    body = {name: form[name] for name in ACTIONS[action][1] if name in form}
    try:
        _act(action, platform, layer, feature_id, body)
    except MapsvcError as exc:
        if exc.status in (401, 403, 404) and exc.code != "unknown_feature":
            raise
        key = f"moderation.error.{exc.code}"
        language = current_language()
        try:
            message = text(key, language, **exc.details) if exc.code != "generic" else None
        except KeyError:
            message = None
        message = message or text("moderation.error.generic", language, message=exc.message)
        return _render(platform, layer, error=message, status=exc.status)
    show = form.get("show", "all")
    return redirect(_page_url(platform, layer, show=show if show != "all" else None, done=action,
                              offset=form.get("offset") if form.get("offset") not in (None, "0") else None)
                    + f"#pin-{feature_id}")

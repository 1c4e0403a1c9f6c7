"""Writes by residents and staff: pins, votes, and the settings of platforms and layers."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from mapsvc.errors import BadRequest
from mapsvc.export.geojson import feature_to_geojson
from mapsvc.services import following, settings, suggestions, voting
from mapsvc.storage.models import utcnow
from mapsvc.web import params
from mapsvc.web.api import _geojson
from mapsvc.web.auth import current_actor, limit, require_login

bp = Blueprint("contributions", __name__, url_prefix="/api")

FEATURE = "/platforms/<platform>/layers/<layer>/features/<feature_id>"


def _database():
    return current_app.extensions["mapsvc.db"]


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise BadRequest(f"{name} must be true or false.", code="invalid_parameter")
    return raw in ("true", "1")


@bp.post("/platforms/<platform>/layers/<layer>/features")
@limit("RATE_LIMIT_PINS")
def create_feature(platform: str, layer: str):
    params.reject_unknown(request.args, ("allow_nearby",))
    actor = require_login()
    allow_nearby = _flag("allow_nearby")
    with _database().transaction() as session:
        shown = suggestions.create_suggestion(session, actor, platform, layer, params.json_body(), now=utcnow(),
                                              allow_nearby=allow_nearby)
        body = feature_to_geojson(*shown)
        body["properties"]["visibility"] = shown[0].visibility  # 'pending': shown after a moderator's approval
        body["follow_offer"] = following.follow_offer(session, actor, shown[0].id)  # a foreign member (RFC 7946)
    response = _geojson(body)
    response.status_code = 201
    return response


@bp.put(FEATURE)
@limit("RATE_LIMIT_PINS")
def update_feature(platform: str, layer: str, feature_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        shown = suggestions.update_suggestion(session, actor, platform, layer, params.feature_id(feature_id),
                                              params.json_body(), now=utcnow())
        body = feature_to_geojson(*shown)
        body["properties"]["visibility"] = shown[0].visibility
    return _geojson(body)


@bp.delete(FEATURE)
@limit("RATE_LIMIT_PINS")
def withdraw_feature(platform: str, layer: str, feature_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        suggestions.withdraw_suggestion(session, actor, platform, layer, params.feature_id(feature_id), now=utcnow())
    return "", 204


@bp.post(FEATURE + "/vote")
@limit("RATE_LIMIT_VOTES")
def vote(platform: str, layer: str, feature_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        state = voting.cast_vote(session, actor, platform, layer, params.feature_id(feature_id), now=utcnow())
        offer = following.follow_offer(session, actor, params.feature_id(feature_id))
    return state.to_json() | {"follow_offer": offer}, 201


@bp.delete(FEATURE + "/vote")
@limit("RATE_LIMIT_VOTES")
def unvote(platform: str, layer: str, feature_id: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    with _database().transaction() as session:
        state = voting.withdraw_vote(session, actor, platform, layer, params.feature_id(feature_id), now=utcnow())
    return state.to_json()


@bp.get("/platforms/<platform>/layers/<layer>/my-votes")
def my_votes(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    actor = require_login()
    feature_ids, left = voting.my_votes(g.db_session, actor, platform, layer)
    return {"feature_ids": feature_ids, "votes_left": left}


@bp.patch("/platforms/<platform>")
def update_platform(platform: str):
    actor = require_login()
    with _database().transaction() as session:
        result = settings.update_platform(session, actor, platform, params.json_body())
    return result


@bp.patch("/platforms/<platform>/layers/<layer>")
def update_layer(platform: str, layer: str):
    actor = require_login()
    with _database().transaction() as session:
        result = settings.update_layer(session, actor, platform, layer, params.json_body())
    return result

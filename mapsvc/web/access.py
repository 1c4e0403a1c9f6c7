"""Keyboard and screen-reader access: the list view of a layer's suggestions and finding a place by address."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request, url_for

from mapsvc.errors import BadRequest
from mapsvc.services import geocoding, voting
from mapsvc.services.suggestion_list import list_suggestions
from mapsvc.storage.suggestion_list import ListedSuggestion
from mapsvc.web import params
from mapsvc.web.auth import current_actor, limit
from mapsvc.web.language import current_language

bp = Blueprint("access", __name__)

DEFAULT_LIST_SIZE = 20
MAX_LIST_SIZE = 200


@bp.app_context_processor
def _access_context() -> dict[str, Any]:
    """Tell the map pages' list partial whether address search is on and where the list comes from."""
    return {"access_geocoder": bool(current_app.config["MAPSVC"].get("GEOCODER_URL"))}


@bp.get("/api/platforms/<platform>/layers/<layer>/list")
def suggestion_list(platform: str, layer: str):
    """A page of the layer's public suggestions, sorted by votes or by date, for the list view."""
    args = request.args
    params.reject_unknown(args, ("sort", "limit", "offset"))
    size = params.whole_number(args, "limit", default=DEFAULT_LIST_SIZE, low=1, high=MAX_LIST_SIZE)
    offset = params.whole_number(args, "offset", default=0, low=0, high=params.MAX_OFFSET)
    actor = current_actor()
    page = list_suggestions(g.db_session, actor, platform, layer, sort=args.get("sort", "votes").strip(),
                            limit=size, offset=offset)
    body: dict[str, Any] = {
        "total": page.total, "sort": page.sort, "limit": page.limit, "offset": page.offset,
        "next_offset": page.offset + len(page.items) if page.offset + len(page.items) < page.total else None,
        "items": [_row(item) for item in page.items],
    }
    if actor.is_authenticated:
        body["votes_left"] = voting.my_votes(g.db_session, actor, platform, layer)[1]
    body["links"] = {"self": url_for("access.suggestion_list", platform=platform, layer=layer, sort=page.sort,
                                     limit=page.limit, offset=page.offset)}
    return body


def _row(item: ListedSuggestion) -> dict[str, Any]:
    title = item.properties.get("title") or item.properties.get("name")
    return {"id": item.id, "lon": round(item.lon, 7), "lat": round(item.lat, 7),
            "title": str(title) if title is not None else None, "theme": item.theme, "status": item.status,
            "vote_count": item.vote_count, "demo": item.is_demo, "created_at": item.created_at.isoformat(),
            "mine": item.mine, "voted": item.voted, "pending": item.pending}


@bp.get("/api/geocode")
@limit("RATE_LIMIT_GEOCODE")
def geocode():
    """Places matching a free-text address inside a platform's box, from the configured geocoder."""
    args = request.args
    params.reject_unknown(args, ("q", "platform"))
    platform = (args.get("platform") or "").strip()
    if not platform:
        raise BadRequest("Say on which platform to look: platform=<slug>, e.g. platform=poperinge.",
                         code="missing_parameter")
    places = geocoding.find_places(g.db_session, current_app.config["MAPSVC"]["GEOCODER_URL"], platform,
                                   args.get("q", ""), language=current_language())
    return {"results": [place.to_json() for place in places]}

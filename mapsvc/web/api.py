"""The JSON API: platforms, their layers, and features as GeoJSON."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, g, request, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping

from mapsvc.export.geojson import feature_collection, feature_to_geojson, iso
from mapsvc.layers.window import window_state
from mapsvc.services import catalogue, features
from mapsvc.storage import catalogue as store
from mapsvc.storage.models import Layer, Platform, utcnow
from mapsvc.web import params
from mapsvc.web.auth import current_actor

bp = Blueprint("api", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"


def _names(obj: Any, prefix: str) -> dict[str, str | None]:
    return {lang: getattr(obj, f"{prefix}_{lang}") for lang in ("nl", "fr", "en")}


def _platform_json(platform: Platform, *, detail: bool = False) -> dict[str, Any]:
    body = {
        "slug": platform.slug, "kind": platform.kind, "nis_code": platform.nis_code,
        "name": _names(platform, "name"), "languages": platform.languages,
        "links": {"self": url_for("api.platform", platform=platform.slug, _external=True),
                  "layers": url_for("api.layers", platform=platform.slug, _external=True)},
    }
    if detail:
        boundary = to_shape(platform.boundary)
        body.update(
            view={"lon": platform.view_lon, "lat": platform.view_lat, "zoom": platform.view_zoom},
            look={"colour_primary": platform.colour_primary, "colour_secondary": platform.colour_secondary,
                  "logo_url": platform.logo_url},
            bbox=[round(v, 6) for v in boundary.bounds],
            boundary={"type": "Feature", "geometry": mapping(boundary),
                      "properties": {"source": platform.boundary_source}},
        )
    return body


def _layer_json(platform: Platform, layer: Layer, counts: tuple[int, int], *, detail: bool = False) -> dict:
    body = {
        "slug": layer.slug, "kind": layer.kind, "geometry_type": layer.geometry_type,
        "title": _names(layer, "title"), "feature_count": counts[0], "demo_feature_count": counts[1],
        "attribution": layer.attribution,
        "participation": {"opens_at": iso(layer.opens_at), "closes_at": iso(layer.closes_at),
                          "state": window_state(layer.opens_at, layer.closes_at, utcnow())},
        "links": {
            "self": url_for("api.layer", platform=platform.slug, layer=layer.slug, _external=True),
            "features": url_for("api.layer_features", platform=platform.slug, layer=layer.slug, _external=True),
        },
    }
    if detail:
        body.update(
            description=_names(layer, "description"), themes=layer.themes,
            property_schema=layer.property_schema,
            voting={"enabled": layer.voting_enabled, "votes_per_person": layer.votes_per_person},
        )
    return body


def _session():
    return g.db_session


@bp.get("/platforms")
def platforms():
    params.reject_unknown(request.args, ())
    return {"platforms": [_platform_json(p) for p in store.list_platforms(_session())]}


@bp.get("/platforms/<platform>")
def platform(platform: str):
    params.reject_unknown(request.args, ())
    return _platform_json(catalogue.get_platform(_session(), platform), detail=True)


@bp.get("/platforms/<platform>/layers")
def layers(platform: str):
    params.reject_unknown(request.args, ())
    found = catalogue.get_platform(_session(), platform)
    visible = [layer for layer in found.layers if catalogue.may_see(current_actor(), found, layer)]
    counts = store.feature_counts(_session(), [layer.id for layer in visible])
    return {"platform": found.slug, "layers": [_layer_json(found, layer, counts[layer.id]) for layer in visible]}


@bp.get("/platforms/<platform>/layers/<layer>")
def layer(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    found_platform, found = catalogue.get_visible_layer(_session(), current_actor(), platform, layer)
    counts = store.feature_counts(_session(), [found.id])
    return _layer_json(found_platform, found, counts[found.id], detail=True)


@bp.get("/platforms/<platform>/layers/<layer>/features")
def layer_features(platform: str, layer: str):
    args = request.args
    params.reject_unknown(args, ("bbox", "limit", "offset"))
    settings = current_app.config["MAPSVC"]
    limit = params.whole_number(args, "limit", default=settings["DEFAULT_PAGE_SIZE"], low=1,
                                high=settings["MAX_PAGE_SIZE"])
    offset = params.whole_number(args, "offset", default=0, low=0, high=params.MAX_OFFSET)
    bbox = params.bbox(args)
    page = features.feature_page(_session(), current_actor(), platform, layer, bbox=bbox, limit=limit, offset=offset)
    links = [{"rel": "self", "type": GEOJSON, "href": _page_url(platform, layer, bbox, limit, offset)}]
    if offset + len(page.items) < page.number_matched:
        links.append({"rel": "next", "type": GEOJSON, "href": _page_url(platform, layer, bbox, limit, offset + limit)})
    if offset > 0:
        links.append({"rel": "prev", "type": GEOJSON,
                      "href": _page_url(platform, layer, bbox, limit, max(0, offset - limit))})
    body = feature_collection(
        [feature_to_geojson(*item) for item in page.items],
        numberMatched=page.number_matched, numberReturned=len(page.items), links=links,
        attribution=page.layer.attribution,
    )
    return _geojson(body)


def _page_url(platform: str, layer: str, bbox, limit: int, offset: int) -> str:
    query = {"limit": limit, "offset": offset}
    if bbox is not None:
        query["bbox"] = ",".join(repr(v) for v in bbox)
    return url_for("api.layer_features", platform=platform, layer=layer, _external=True, **query)


@bp.get("/platforms/<platform>/layers/<layer>/features/<feature_id>")
def feature(platform: str, layer: str, feature_id: str):
    params.reject_unknown(request.args, ())
    found = features.one_feature(_session(), current_actor(), platform, layer, params.feature_id(feature_id))
    return _geojson(feature_to_geojson(*found))


def _geojson(body: dict[str, Any]):
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return current_app.response_class(text, mimetype=GEOJSON)

"""Map pages: a platform's map, a layer's map with its embed snippet, the embed page, and pins per view."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping

from mapsvc.errors import NotFound
from mapsvc.layers.catalogue import SUGGESTIONS
from mapsvc.layers.window import window_state
from mapsvc.services import catalogue
from mapsvc.services.permissions import can_moderate, is_official
from mapsvc.services.pins import PinView, pins_in_view
from mapsvc.spatial.grid import CLUSTERS, MAX_ZOOM, MIN_ZOOM
from mapsvc.storage import catalogue as store
from mapsvc.storage.models import Layer, Platform, User, utcnow
from mapsvc.web import params
from mapsvc.web.auth import current_actor
from mapsvc.web.embedding import embed_snippet, frame_ancestors, valid_origins
from mapsvc.web.folium_map import BuiltMap, MapLayer, build_map, layer_colour
from mapsvc.web.language import current_language, localised, theme_label
from mapsvc.web.ui_text import DEFAULT_LANGUAGE, messages, text

bp = Blueprint("maps", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")

def _asset(path: str) -> str:
    return url_for("maps.static", filename=path)


def _visible_layer(platform_slug: str, layer_slug: str) -> tuple[Platform, Layer]:
    platform, layer = catalogue.get_layer(g.db_session, platform_slug, layer_slug)
    if not layer.is_public:
        raise NotFound(text("error.page_not_found"), code="unknown_layer")
    return platform, layer


def _label(labels: dict[str, str] | None, language: str, fallback: str) -> str:
    """Pick a schema label in the language, else Dutch, else the fallback (the field or choice name)."""
    labels = labels or {}
    return labels.get(language) or labels.get(DEFAULT_LANGUAGE) or fallback


def _field_for_form(spec: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Reduce a property-schema field to what the pin form needs, with labels in the language."""
    labels = spec.get("choice_labels") or {}
    return {
        "name": spec["name"], "type": spec["type"], "required": bool(spec.get("required")),
        "label": _label(spec.get("label"), language, spec["name"]),
        "maxLength": spec.get("max_length"), "min": spec.get("min"), "max": spec.get("max"),
        "choices": [{"value": c, "label": _label(labels.get(c), language, str(c))}
                    for c in spec.get("choices") or []],
    }


def _layer_config(platform: Platform, layer: Layer, built: BuiltMap, colour: str, count: int) -> dict[str, Any]:
    state = window_state(layer.opens_at, layer.closes_at, utcnow())
    return {
        "slug": layer.slug, "title": localised(layer, "title"), "kind": layer.kind, "geometryType": layer.geometry_type,
        "colour": colour, "group": built.group_names[layer.slug], "count": count,
        "open": layer.kind == SUGGESTIONS and state == "open",
        "voting": {"enabled": bool(layer.voting_enabled), "votesPerPerson": layer.votes_per_person},
        "themes": list(layer.themes or []),
        "themeLabels": {theme: theme_label(theme) for theme in layer.themes or []},
        "fields": [_field_for_form(f, current_language())
                   for f in (layer.property_schema or {}).get("fields", [])],
        "pinsUrl": url_for("maps.pins", platform=platform.slug, layer=layer.slug),
        "featuresUrl": url_for("api.layer_features", platform=platform.slug, layer=layer.slug),
    }


def _current_user() -> dict[str, Any] | None:
    actor = current_actor()
    if not actor.is_authenticated:
        return None
    user = g.db_session.get(User, actor.user_id)
    return {"id": actor.user_id, "name": (user.display_name if user else None) or text("auth.anonymous_name")}


def _map_page(template: str, platform: Platform, layers: list[Layer], *, embed: bool, **context: Any):
    """Render a map page: folium builds the map, the page's script fills the layer groups with pins."""
    settings = current_app.config["MAPSVC"]
    counts = store.feature_counts(g.db_session, [layer.id for layer in layers])
    colours = {layer.slug: platform.colour_primary if embed else layer_colour(layer.slug) for layer in layers}
    boundary = to_shape(platform.boundary)
    built = build_map(
        centre=(platform.view_lat, platform.view_lon), zoom=platform.view_zoom,
        boundary={"type": "Feature", "geometry": mapping(boundary), "properties": {}},
        boundary_attribution=text("map.boundary_attribution"),
        layers=[MapLayer(layer.slug, localised(layer, "title"), colours[layer.slug], counts[layer.id][0])
                for layer in layers],
        tile_url=settings["TILE_URL"] or None, tile_attribution=settings["TILE_ATTRIBUTION"], asset_url=_asset,
        layer_control=not embed,
    )
    user = _current_user()
    config = {
        "platform": {"slug": platform.slug, "name": localised(platform, "name")}, "language": current_language(),
        "map": built.map_name, "tiles": built.tiles_name, "embed": embed,
        "dataAttribution": text("map.osm_attribution") if any(layer.attribution for layer in layers) else None,
        "loginUrl": url_for("auth.login", next=request.path), "meUrl": url_for("auth.me"),
        "embedLoginUrl": url_for("auth.embedded_login"), "embedTokenUrl": url_for("auth.embed_token"),
        "user": user, "layers": [_layer_config(platform, layer, built, colours[layer.slug], counts[layer.id][0])
                                 for layer in layers],
        "messages": messages(current_language()),
    }
    # The first view's pins are requested by a small script in the page's head, while Leaflet still loads.
    prefetch = {"lat": platform.view_lat, "lon": platform.view_lon, "zoom": platform.view_zoom,
                "urls": {item["slug"]: item["pinsUrl"] for item in config["layers"]}}
    demo = sum(counts[layer.id][1] for layer in layers)
    return render_template(template, platform=platform, layers=layers, counts=counts, colours=colours,
                           built=built, config=config, prefetch=prefetch, user=user, demo_count=demo,
                           tiles_configured=bool(settings["TILE_URL"]), **context)


@bp.get("/p/<platform>")
def platform_map(platform: str):
    params.reject_unknown(request.args, ())
    found = catalogue.get_platform(g.db_session, platform)
    layers = [layer for layer in found.layers if layer.is_public]
    return _map_page("platform_map.html", found, layers, embed=False,
                     show_official=is_official(current_actor(), found.id))


@bp.get("/p/<platform>/<layer>")
def layer_map(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    found_platform, found = _visible_layer(platform, layer)
    src = url_for("maps.embed", platform=found_platform.slug, layer=found.slug, _external=True)
    frame_title = text("embed.frame_title", layer=localised(found, "title"), platform=localised(found_platform, "name"))
    return _map_page("layer_map.html", found_platform, [found], embed=False, layer=found,
                     show_snippet=is_official(current_actor(), found_platform.id),
                     show_moderation=can_moderate(current_actor(), found_platform.id, found.id),
                     snippet=embed_snippet(src, frame_title),
                     embed_origins=valid_origins(found_platform.embed_origins),
                     window=window_state(found.opens_at, found.closes_at, utcnow()))


@bp.get("/embed/<platform>/<layer>")
def embed(platform: str, layer: str):
    params.reject_unknown(request.args, ())
    found_platform, found = _visible_layer(platform, layer)
    page = _map_page("embed.html", found_platform, [found], embed=True, layer=found,
                     window=window_state(found.opens_at, found.closes_at, utcnow()))
    response = current_app.make_response(page)
    # No X-Frame-Options here: it cannot name several origins, and CSP frame-ancestors supersedes it.
    response.headers["Content-Security-Policy"] = frame_ancestors(found_platform.embed_origins)
    return response


@bp.after_request
def _framing(response):
    """Let only the platform's own pages frame its map pages (the embed page sets its own list)."""
    if request.endpoint in ("maps.platform_map", "maps.layer_map"):
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    return response


@bp.get("/api/platforms/<platform>/layers/<layer>/pins")
def pins(platform: str, layer: str):
    args = request.args
    params.reject_unknown(args, ("bbox", "zoom"))
    zoom = params.whole_number(args, "zoom", default=12, low=MIN_ZOOM, high=MAX_ZOOM)
    _visible_layer(platform, layer)
    view = pins_in_view(g.db_session, platform, layer, bbox=params.bbox(args), zoom=zoom,
                        viewer_id=current_actor().user_id)
    return _pins_json(view)


def _title(properties: dict[str, Any]) -> str | None:
    title = properties.get("title") or properties.get("name")
    return str(title) if title is not None else None


def _pins_json(view: PinView) -> dict[str, Any]:
    body: dict[str, Any] = {"mode": view.mode, "zoom": view.zoom, "bbox": [round(v, 7) for v in view.bbox],
                            "count": view.count}
    if view.mode == CLUSTERS:
        body["clusters"] = [{"lon": round(c.lon, 6), "lat": round(c.lat, 6), "count": c.count,
                             "bbox": [round(v, 6) for v in c.bbox]} for c in view.clusters]
    else:
        body["pins"] = [_pin_json(p) for p in view.pins]
        body["truncated"] = view.truncated
    return body


def _pin_json(pin) -> dict[str, Any]:
    body = {"id": pin.id, "lon": round(pin.lon, 7), "lat": round(pin.lat, 7), "title": _title(pin.properties),
            "theme": pin.theme, "status": pin.status, "vote_count": pin.vote_count, "demo": pin.is_demo,
            "mine": pin.mine, "voted": pin.voted}
    if pin.visibility != "visible":  # only the author's own pending pin gets here
        body["visibility"] = pin.visibility
    if pin.outline is not None:
        body["outline"] = mapping(pin.outline)
    return body

"""Rankings and rollout plans for officials: the API, the dashboards and their downloads.

GET  /api/platforms/{platform}/layers/{layer}/ranking   ranked places (or gap cells) as GeoJSON, best first;
     ?eps_m=75&min_pins=3&status=a,b&theme=a,b&from=2026-09-01&to=2026-10-01&limit=100&walk_radius_m=500
     &format=geojson|csv|gpkg|shp.zip (a download; without format the GeoJSON is shown inline)
     &crs=EPSG:31370 (GeoPackage and Shapefile: EPSG:4326, 31370 or 3812)
POST /api/platforms/{platform}/rollout                   the rollout plan (JSON body);
     ?format=json|geojson|csv|gpkg|shp.zip&crs=…
GET  /p/{platform}/{layer}/ranking                       an official's dashboard: map, sortable table, downloads
GET  /p/{platform}/rollout                               the rollout dashboard (inputs in the query string;
                                                          ?format=geojson|csv|gpkg|shp.zip downloads the plan)
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from werkzeug.datastructures import MultiDict

from mapsvc.errors import BadRequest
from mapsvc.export import ranking as render
from mapsvc.export import ranking_files as files
from mapsvc.export.formats import FORMATS, export_chunks
from mapsvc.layers.status import STATUSES
from mapsvc.services.export import parse_crs, parse_moment
from mapsvc.services.ranking import GAPS, RankingQuery, rank_layer
from mapsvc.services.rollout import RolloutInputs, plan_platform_rollout
from mapsvc.suggest.gaps import ATTRIBUTION as GRID_ATTRIBUTION
from mapsvc.suggest.gaps import DISTANCE_NOTE as GAP_DISTANCES
from mapsvc.suggest.ranking import SupportRule
from mapsvc.spatial.crs import WGS84
from mapsvc.suggest.rollout import DISTANCE_NOTE
from mapsvc.web import params
from mapsvc.web.auth import current_actor
from mapsvc.web.folium_map import MapLayer, build_map, layer_colour
from mapsvc.web.language import localised
from mapsvc.web.ui_text import messages, text

bp = Blueprint("ranking", __name__)

GEOJSON = "application/geo+json"
RANKING_PARAMETERS = ("eps_m", "min_pins", "status", "theme", "from", "to", "limit", "walk_radius_m", "format", "crs")
FILE_FORMATS = ("gpkg", "shp.zip")     # through the layer exports' writers, in the CRS asked for
ROLLOUT_FIELDS = ("requests_layer", "existing_layer", "candidates_layer", "candidates", "radius_m", "n_sites",
                  "per_phase", "exact", "eps_m", "min_pins")
ROLLOUT_PAGE_PARAMETERS = ("requests_layer", "existing_layer", "candidates_layer", "radius_m", "n_sites",
                           "per_phase", "format", "crs")
DASHBOARD_LIMIT = 200


def _number(args, name: str, default: float) -> float:
    raw = args.get(name)
    if raw is None or not str(raw).strip():
        return default
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise BadRequest(f"{name} must be a number of metres, got {str(raw)[:40]!r}.", code="invalid_parameter") from None
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, got {str(raw)[:40]!r}.", code="invalid_parameter")
    return value


def _filled(args) -> MultiDict:
    """The query string without empty fields (a form sends them for inputs left blank)."""
    return MultiDict([(k, v) for k, v in args.items(multi=True) if v.strip()])


def _list(args, name: str) -> tuple[str, ...]:
    return tuple(part.strip() for raw in args.getlist(name) for part in raw.split(",") if part.strip())


def ranking_query(args, *, default_limit: int | None = None) -> RankingQuery:
    """Read a ranking request's query string (ranges are checked by the service)."""
    return RankingQuery(
        eps_m=_number(args, "eps_m", 75.0),
        min_pins=params.whole_number(args, "min_pins", default=3, low=1, high=1000),
        statuses=_list(args, "status"), themes=_list(args, "theme"),
        created_from=parse_moment(args.get("from"), "from", end=False),
        created_to=parse_moment(args.get("to"), "to", end=True),
        limit=params.whole_number(args, "limit", default=default_limit or 0, low=0, high=100_000) or None,
        walk_radius_m=_number(args, "walk_radius_m", 500.0))


def _ranking_members(result) -> dict[str, Any]:
    q = result.query
    members = {"platform": result.platform.slug, "layer": result.layer.slug, "variant": result.variant,
               "numberMatched": result.n_places,
               "numberReturned": len(result.gaps if result.variant == GAPS else result.places)}
    if result.variant == GAPS:
        members.update(parameters={"walk_radius_m": q.walk_radius_m, "limit": q.limit}, book_cabinets=result.n_pins,
                       distances=GAP_DISTANCES, attribution=GRID_ATTRIBUTION)
    else:
        members.update(parameters={"eps_m": q.eps_m, "min_pins": q.min_pins, "status": list(q.statuses),
                                   "theme": list(q.themes), "from": _iso(q.created_from), "to": _iso(q.created_to),
                                   "limit": q.limit},
                       pins=result.n_pins, votes=result.n_votes, rule=SupportRule().summary(),
                       distances="Clusters use straight-line distances in Belgian Lambert 72 (EPSG:31370) metres.")
    return members


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _download(body: str, filename: str, mimetype: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _file_download(fmt: str, crs_text: str | None, file: tuple) -> Response:
    """A GeoPackage or zipped Shapefile, written by the export writers in the CRS asked for."""
    fmt_spec, crs = FORMATS[fmt], parse_crs(crs_text)
    schema, records = file
    body = b"".join(export_chunks(fmt_spec, records, schema, crs=crs))
    suffix = "" if crs == WGS84 else f"-{crs.split(':')[1]}"
    return Response(body, mimetype=fmt_spec.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{schema.name}{suffix}{fmt_spec.suffix}"'})


def _check_crs(fmt: str | None, crs_text: str | None) -> None:
    if crs_text is not None and fmt not in FILE_FORMATS:
        raise BadRequest("crs applies to the GeoPackage and Shapefile downloads (format=gpkg or shp.zip); GeoJSON "
                         "and CSV are lon/lat (EPSG:4326).", code="invalid_parameter")


def _ranking_response(result, fmt: str | None, crs_text: str | None = None) -> Response:
    name = f"{result.platform.slug}-{result.layer.slug}-ranking"
    gaps = result.variant == GAPS
    if fmt in FILE_FORMATS:
        return _file_download(fmt, crs_text, files.gaps_file(name, result.gaps) if gaps
                              else files.places_file(name, result.places))
    if fmt == "csv":
        return _download(render.gaps_csv(result.gaps) if gaps else render.places_csv(result.places),
                         f"{name}.csv", "text/csv")
    members = _ranking_members(result)
    body = render.gaps_geojson(result.gaps, **members) if gaps else render.places_geojson(result.places, **members)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if fmt == "geojson":
        return _download(text, f"{name}.geojson", GEOJSON)
    return Response(text, mimetype=GEOJSON)


def _format(args, allowed: tuple[str, ...]) -> str | None:
    fmt = args.get("format")
    if fmt is not None and fmt not in allowed:
        raise BadRequest(f"format must be one of {', '.join(allowed)}, got {fmt[:20]!r}.", code="invalid_parameter")
    return fmt


@bp.get("/api/platforms/<platform>/layers/<layer>/ranking")
def ranking(platform: str, layer: str):
    params.reject_unknown(request.args, RANKING_PARAMETERS)
    fmt = _format(request.args, ("geojson", "csv", *FILE_FORMATS))
    _check_crs(fmt, request.args.get("crs"))
    result = rank_layer(g.db_session, current_actor(), platform, layer, ranking_query(request.args),
                        data_dir=current_app.config["MAPSVC"]["DATA_DIR"])
    return _ranking_response(result, fmt, request.args.get("crs"))


def rollout_inputs(body: Any) -> RolloutInputs:
    """Read the rollout inputs of a JSON body, refusing unknown fields and wrong types."""
    if not isinstance(body, dict):
        raise BadRequest("Send the rollout inputs as a JSON object.", code="invalid_body")
    unknown = sorted(set(body) - set(ROLLOUT_FIELDS))
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(u[:40] for u in unknown)}; the rollout takes: "
                         f"{', '.join(ROLLOUT_FIELDS)}.", code="unknown_field")
    kinds = {"requests_layer": str, "existing_layer": str, "candidates_layer": str, "candidates": dict,
             "radius_m": (int, float), "n_sites": int, "per_phase": int, "exact": bool, "eps_m": (int, float),
             "min_pins": int}
    for name, value in body.items():
        wrong_bool = isinstance(value, bool) and kinds[name] is not bool
        if value is not None and (wrong_bool or not isinstance(value, kinds[name])):
            raise BadRequest(f"{name} has the wrong type ({type(value).__name__}).", code="invalid_field")
    values = {k: v for k, v in body.items() if v is not None}
    if "candidates" in values:
        values["uploaded_candidates"] = values.pop("candidates")
    if "radius_m" in values and not math.isfinite(values["radius_m"]):
        raise BadRequest("radius_m must be a finite number of metres.", code="invalid_field")
    return RolloutInputs(**values)


def _rollout_response(rollout, fmt: str | None, crs_text: str | None = None) -> Response:
    name = f"{rollout.platform.slug}-rollout"
    if fmt in FILE_FORMATS:
        return _file_download(fmt, crs_text, files.plan_file(name, rollout.plan))
    if fmt == "csv":
        return _download(render.plan_csv(rollout.plan), f"{name}.csv", "text/csv")
    members = {"platform": rollout.platform.slug, "candidates_source": rollout.candidates_source,
               "request_count": len(rollout.requests), "existing_point_count": len(rollout.existing),
               "candidate_count": len(rollout.candidates)}
    if fmt == "geojson":
        body = render.plan_geojson(rollout.plan, rollout.requests, rollout.existing, **members)
        return _download(json.dumps(body, ensure_ascii=False), f"{name}.geojson", GEOJSON)
    return current_app.response_class(json.dumps(render.plan_json(rollout.plan, **members), ensure_ascii=False),
                                      mimetype="application/json")


@bp.post("/api/platforms/<platform>/rollout")
def rollout(platform: str):
    params.reject_unknown(request.args, ("format", "crs"))
    fmt = _format(request.args, ("json", "geojson", "csv", *FILE_FORMATS))
    _check_crs(fmt, request.args.get("crs"))
    inputs = rollout_inputs(request.get_json(silent=True))
    return _rollout_response(plan_platform_rollout(g.db_session, current_actor(), platform, inputs), fmt,
                             request.args.get("crs"))


# ---- dashboards -------------------------------------------------------------------------------------

def _login_first():
    if not current_actor().is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def _built_map(platform, slug: str, title: str, count: int):
    settings = current_app.config["MAPSVC"]
    return build_map(centre=(platform.view_lat, platform.view_lon), zoom=platform.view_zoom,
                     boundary={"type": "Feature", "geometry": mapping(to_shape(platform.boundary)), "properties": {}},
                     boundary_attribution=text("map.boundary_attribution"),
                     layers=[MapLayer(slug, title, layer_colour(slug), count)],
                     tile_url=settings["TILE_URL"] or None, tile_attribution=settings["TILE_ATTRIBUTION"],
                     asset_url=lambda path: url_for("maps.static", filename=path), layer_control=False)


def _dashboard_messages() -> dict[str, str]:
    """The dashboard script's words (its map tooltips), in the request's language."""
    return {k: v for k, v in messages().items() if k.startswith("dashboard.tip_") or k.startswith("dashboard.covered")
            or k == "dashboard.not_covered"}


@bp.get("/p/<platform>/<layer>/ranking")
def ranking_page(platform: str, layer: str):
    params.reject_unknown(request.args, tuple(p for p in RANKING_PARAMETERS if p not in ("format", "crs")))
    if (response := _login_first()) is not None:
        return response
    query = ranking_query(_filled(request.args), default_limit=DASHBOARD_LIMIT)
    result = rank_layer(g.db_session, current_actor(), platform, layer, query,
                        data_dir=current_app.config["MAPSVC"]["DATA_DIR"])
    gaps = result.variant == GAPS
    members = _ranking_members(result)
    collection = render.gaps_geojson(result.gaps) if gaps else render.places_geojson(result.places)
    built = _built_map(result.platform, result.layer.slug, localised(result.layer, "title"), members["numberReturned"])
    filled = _filled(request.args)
    args = {k: filled.getlist(k) for k in filled if k not in ("format", "crs")}
    downloads = {fmt: url_for("ranking.ranking", platform=platform, layer=layer, format=fmt, **args)
                 for fmt in ("csv", "geojson")}
    downloads["gpkg"] = url_for("ranking.ranking", platform=platform, layer=layer, format="gpkg", crs="EPSG:31370",
                                **args)
    config = {"map": built.map_name, "group": built.group_names[result.layer.slug], "variant": result.variant,
              "colour": layer_colour(result.layer.slug), "collection": collection, "messages": _dashboard_messages()}
    return render_template("ranking_dashboard.html", result=result, members=members, gaps=gaps, built=built,
                           config=config, downloads=downloads, query=query, statuses=STATUSES,
                           demo_count=result.demo_features)


@bp.get("/p/<platform>/rollout")
def rollout_page(platform: str):
    params.reject_unknown(request.args, ROLLOUT_PAGE_PARAMETERS)
    if (response := _login_first()) is not None:
        return response
    fmt = _format(request.args, ("geojson", "csv", *FILE_FORMATS))
    _check_crs(fmt, request.args.get("crs"))
    args = _filled(request.args)
    inputs = RolloutInputs(
        requests_layer=args.get("requests_layer") or "charging-requests",
        existing_layer=args.get("existing_layer") or "charging-points",
        candidates_layer=args.get("candidates_layer") or None,
        radius_m=_number(args, "radius_m", 250.0),
        n_sites=params.whole_number(args, "n_sites", default=10, low=1, high=1000),
        per_phase=params.whole_number(args, "per_phase", default=0, low=0, high=1000) or None)
    result = plan_platform_rollout(g.db_session, current_actor(), platform, inputs)
    if fmt:
        return _rollout_response(result, fmt, request.args.get("crs"))
    built = _built_map(result.platform, "charging-requests", text("dashboard.requests_layer_title"), len(result.requests))
    collection = render.plan_geojson(result.plan, result.requests, result.existing)
    config = {"map": built.map_name, "group": built.group_names["charging-requests"], "variant": "rollout",
              "colour": layer_colour("charging-points"), "collection": collection, "messages": _dashboard_messages()}
    plain = {k: v for k, v in args.items() if k not in ("format", "crs")}
    downloads = {fmt: url_for("ranking.rollout_page", platform=platform, format=fmt, **plain)
                 for fmt in ("csv", "geojson")}
    downloads["gpkg"] = url_for("ranking.rollout_page", platform=platform, format="gpkg", crs="EPSG:31370", **plain)
    return render_template("rollout_dashboard.html", result=result, plan=result.plan, built=built, config=config,
                           downloads=downloads, inputs=inputs, distances=DISTANCE_NOTE)

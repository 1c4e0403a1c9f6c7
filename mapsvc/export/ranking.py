"""Render rankings, gaps and rollout plans as GeoJSON (RFC 7946, lon/lat) and CSV (UTF-8 with BOM)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from shapely.geometry import mapping

from mapsvc.suggest.gaps import Gap
from mapsvc.suggest.ranking import Place
from mapsvc.suggest.rollout import Points, RolloutPlan

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")     # a spreadsheet would run such a cell as a formula
COUNTS = ("pins", "votes", "voters", "authors", "people", "new_account_people", "burst_people", "unlinked_votes")


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def place_properties(place: Place) -> dict[str, Any]:
    """The properties of one ranked place (counts beside the score, member feature ids)."""
    return {"rank": place.rank, "score": place.score, **{k: getattr(place, k) for k in COUNTS},
            "cluster": place.is_cluster, "centroid": [_round(place.lon, 7), _round(place.lat, 7)],
            "area_m2": _round(place.area_m2, 1), "feature_ids": list(place.pin_ids)}


def places_geojson(places: Sequence[Place], **members: Any) -> dict[str, Any]:
    """Ranked places as a FeatureCollection of hull polygons, best first."""
    return {"type": "FeatureCollection", **members,
            "features": [{"type": "Feature", "id": place.rank, "geometry": mapping(place.hull),
                          "properties": place_properties(place)} for place in places]}


def gap_properties(gap: Gap) -> dict[str, Any]:
    """The properties of one populated cell out of walking reach."""
    return {"rank": gap.rank, "grid_id": gap.grid_id, "population": gap.population,
            "nearest_cabinet_m": _round(gap.nearest_m, 1), "served_share": _round(gap.served_share, 4),
            "centre": [_round(gap.lon, 7), _round(gap.lat, 7)]}


def gaps_geojson(gaps: Sequence[Gap], **members: Any) -> dict[str, Any]:
    """Gap cells as a FeatureCollection of cell polygons, most populated first."""
    return {"type": "FeatureCollection", **members,
            "features": [{"type": "Feature", "id": gap.rank, "geometry": mapping(gap.outline),
                          "properties": gap_properties(gap)} for gap in gaps]}


def plan_json(plan: RolloutPlan, **members: Any) -> dict[str, Any]:
    """A rollout plan as JSON: ordered sites with phases, the coverage curve, what stays uncovered."""
    exact = None
    if plan.exact is not None:
        exact = {"site_ids": list(plan.exact.site_ids), "covered_demand": plan.exact.new_demand,
                 "optimal": plan.exact.optimal, "gap": plan.exact.gap,
                 "greedy_ratio": round(plan.exact.greedy_ratio, 6), "seconds": round(plan.exact.seconds, 3)}
    return {**members, "radius_m": plan.radius_m, "n_sites": plan.n_sites, "per_phase": plan.per_phase,
            "distances": plan.note, "total_demand": plan.total_demand,
            "covered_by_existing": plan.existing_demand,
            "coverage_curve": [round(v, 6) for v in plan.curve],
            "sites": [{"order": s.order, "phase": s.phase, "id": s.id, "lon": _round(s.lon, 7),
                       "lat": _round(s.lat, 7), "new_demand": s.new_demand, "covered_demand": s.covered_demand,
                       "covered_share": round(s.covered_share, 6), "new_request_ids": list(s.new_request_ids)}
                      for s in plan.sites],
            "uncovered_request_ids": list(plan.uncovered_ids),
            "unreachable_request_ids": list(plan.unreachable_ids), "exact": exact}


def plan_geojson(plan: RolloutPlan, requests: Points, existing: Points, **members: Any) -> dict[str, Any]:
    """A plan on a map: planned sites, the requests (covered by which site, or not) and existing points."""
    site_of = {i: s.order for s in plan.sites for i in s.new_request_ids}
    uncovered = set(plan.uncovered_ids)
    features = [_point(s.lon, s.lat, f"site-{s.order}", kind="planned_site", order=s.order, phase=s.phase,
                       site_id=s.id, new_demand=s.new_demand, covered_share=round(s.covered_share, 6),
                       new_request_ids=list(s.new_request_ids)) for s in plan.sites]
    for rid, lon, lat, weight in zip(requests.id.tolist(), requests.lon.tolist(), requests.lat.tolist(),
                                     requests.weight.tolist()):
        state = "uncovered" if rid in uncovered else ("new_site" if rid in site_of else "existing_point")
        features.append(_point(lon, lat, f"request-{rid}", kind="request", request_id=rid, weight=weight,
                               covered_by=state, site_order=site_of.get(rid)))
    features += [_point(lon, lat, f"existing-{i}", kind="existing_point", point_id=i)
                 for i, lon, lat in zip(existing.id.tolist(), existing.lon.tolist(), existing.lat.tolist())]
    return {"type": "FeatureCollection", **members, "distances": plan.note, "features": features}


def _point(lon: float, lat: float, fid: str, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
            "properties": properties}


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Write rows as CSV text with a byte-order mark (Excel reads it as UTF-8); lists become space-separated."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def places_csv(places: Sequence[Place]) -> str:
    """Ranked places as CSV: rank, score, counts, centroid, area and member feature ids."""
    header = ["rank", "score", *COUNTS, "cluster", "lon", "lat", "area_m2", "feature_ids"]
    return to_csv(header, ([p.rank, p.score, *(getattr(p, k) for k in COUNTS), p.is_cluster, _round(p.lon, 7),
                            _round(p.lat, 7), _round(p.area_m2, 1), p.pin_ids] for p in places))


def gaps_csv(gaps: Sequence[Gap]) -> str:
    """Gap cells as CSV, most populated first."""
    header = ["rank", "grid_id", "population", "nearest_cabinet_m", "served_share", "lon", "lat"]
    return to_csv(header, ([g.rank, g.grid_id, g.population, _round(g.nearest_m, 1), _round(g.served_share, 4),
                            _round(g.lon, 7), _round(g.lat, 7)] for g in gaps))


def plan_csv(plan: RolloutPlan) -> str:
    """A plan as CSV: one row per site in order; each row says the radius and that distances are straight."""
    header = ["order", "phase", "site_id", "lon", "lat", "new_demand", "covered_demand", "covered_share",
              "new_request_ids", "radius_m", "distances"]
    rows = [[s.order, s.phase, s.id, _round(s.lon, 7), _round(s.lat, 7), s.new_demand, s.covered_demand,
             round(s.covered_share, 6), s.new_request_ids, plan.radius_m, "straight line (EPSG:31370)"]
            for s in plan.sites]
    return to_csv(header, rows)

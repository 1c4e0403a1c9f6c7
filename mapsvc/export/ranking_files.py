"""Rankings, gap cells and rollout plans as export records, so every file format and CRS of a layer export
(GeoPackage, zipped Shapefile; Lambert 72 or 2008) serves them too (`formats.export_chunks`)."""

from __future__ import annotations

from collections.abc import Sequence

from shapely.geometry import Point

from mapsvc.export.records import BOOLEAN, INTEGER, NUMBER, POINT, POLYGON, STRING, Column, ExportRecord, ExportSchema
from mapsvc.suggest.gaps import Gap
from mapsvc.suggest.ranking import Place
from mapsvc.suggest.rollout import RolloutPlan

COUNT_COLUMNS = ("pins", "votes", "voters", "authors", "people", "new_account_people", "burst_people",
                 "unlinked_votes")
STRAIGHT = "straight line (EPSG:31370), not a walking route"


def _ids(values: Sequence) -> str:
    return " ".join(str(v) for v in values)


def places_file(name: str, places: Sequence[Place]) -> tuple[ExportSchema, list[ExportRecord]]:
    """Ranked places as hull polygons with rank, score, the raw counts and member feature ids."""
    schema = ExportSchema(name, POLYGON, (
        Column("rank", INTEGER), Column("score", NUMBER), *(Column(c, INTEGER) for c in COUNT_COLUMNS),
        Column("cluster", BOOLEAN), Column("area_m2", NUMBER), Column("feature_ids", STRING)))
    records = [ExportRecord(p.rank, p.hull, {"rank": p.rank, "score": p.score,
                                             **{c: getattr(p, c) for c in COUNT_COLUMNS}, "cluster": p.is_cluster,
                                             "area_m2": p.area_m2, "feature_ids": _ids(p.pin_ids)})
               for p in places]
    return schema, records


def gaps_file(name: str, gaps: Sequence[Gap]) -> tuple[ExportSchema, list[ExportRecord]]:
    """Populated 1 km cells out of walking reach of a book cabinet, most populated first."""
    schema = ExportSchema(name, POLYGON, (
        Column("rank", INTEGER), Column("grid_id", STRING), Column("population", INTEGER),
        Column("nearest_cabinet_m", NUMBER), Column("served_share", NUMBER)), attribution="Statbel (2020)")
    records = [ExportRecord(g.rank, g.outline, {"rank": g.rank, "grid_id": g.grid_id, "population": g.population,
                                                "nearest_cabinet_m": g.nearest_m, "served_share": g.served_share})
               for g in gaps]
    return schema, records


def plan_file(name: str, plan: RolloutPlan) -> tuple[ExportSchema, list[ExportRecord]]:
    """A rollout plan's sites in order, each with what it newly covers and the cumulative share."""
    schema = ExportSchema(name, POINT, (
        Column("order", INTEGER), Column("phase", INTEGER), Column("site_id", STRING),
        Column("new_demand", NUMBER), Column("covered_demand", NUMBER), Column("covered_share", NUMBER),
        Column("new_request_ids", STRING), Column("radius_m", NUMBER), Column("distances", STRING)))
    records = [ExportRecord(s.order, Point(s.lon, s.lat), {
        "order": s.order, "phase": s.phase, "site_id": str(s.id), "new_demand": s.new_demand,
        "covered_demand": s.covered_demand, "covered_share": s.covered_share,
        "new_request_ids": _ids(s.new_request_ids), "radius_m": plan.radius_m, "distances": STRAIGHT})
        for s in plan.sites]
    return schema, records

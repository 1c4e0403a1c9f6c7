"""Spatial SQL that differs between SpatiaLite and PostGIS, kept in one place."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select, text
from sqlalchemy.orm import Session

from mapsvc.storage.models import SRID, Feature

BBox = tuple[float, float, float, float]


def features_in_bbox(session: Session, bbox: BBox) -> ColumnElement[bool]:
    """Return a filter on features whose geometry intersects `bbox` (lon/lat), using the spatial index."""
    minx, miny, maxx, maxy = bbox
    if session.get_bind().dialect.name == "postgresql":
        envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID)
        # && is answered by the GiST index; ST_Intersects keeps polygons whose box merely overlaps out.
        return and_(Feature.geom.op("&&")(envelope), func.ST_Intersects(Feature.geom, envelope))
    # SpatiaLite never uses its R*Tree by itself: ask the SpatialIndex virtual table for candidate rowids.
    frame = func.BuildMbr(minx, miny, maxx, maxy, SRID)
    candidates = (
        select(text("ROWID"))
        .select_from(text("SpatialIndex"))
        .where(text("f_table_name = 'features'"), text("f_geometry_column = 'geom'"),
               text("search_frame = BuildMbr(:minx, :miny, :maxx, :maxy, :srid)"))
        .params(minx=minx, miny=miny, maxx=maxx, maxy=maxy, srid=SRID)
    )
    return and_(Feature.id.in_(candidates), func.ST_Intersects(Feature.geom, frame) == 1)

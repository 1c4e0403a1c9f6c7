"""Map-view queries on a layer's features: counts per grid cell, and compact pins for a view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Integer, and_, cast, func, select, text
from sqlalchemy.orm import Session

from mapsvc.storage.features import visible_to
from mapsvc.storage.models import SRID, Feature, Vote
from mapsvc.storage.votes import vote_count_column

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class CellCount:
    """The features of one grid cell: how many, their mean centre and the bounds of their centres."""

    column: int
    row: int
    count: int
    lon: float
    lat: float
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class PinRow:
    """One feature as a map pin: its centre, what the popup title needs, counts and the viewer's relation."""

    id: int
    lon: float
    lat: float
    properties: dict[str, Any]
    theme: str | None
    status: str | None
    is_demo: bool
    vote_count: int
    mine: bool
    voted: bool
    outline: BaseGeometry | None  # the geometry when it is not a point (a roof outline)
    visibility: str = "visible"   # 'pending' for the viewer's own pin that waits for pre-moderation


def _centre(session: Session):
    """Return SQL for the centre of each feature's bounding box (the point itself for points)."""
    geom = Feature.geom
    if session.get_bind().dialect.name == "postgresql":
        return (func.ST_XMin(geom) + func.ST_XMax(geom)) / 2.0, (func.ST_YMin(geom) + func.ST_YMax(geom)) / 2.0
    # SpatiaLite reads these from the blob's header: no geometry is parsed.
    return (func.MbrMinX(geom) + func.MbrMaxX(geom)) / 2.0, (func.MbrMinY(geom) + func.MbrMaxY(geom)) / 2.0


def _in_view(session: Session, bbox: BBox, use_index: bool) -> list:
    """Return conditions: the feature's centre lies in `bbox` (a feature belongs to exactly one cell)."""
    minx, miny, maxx, maxy = bbox
    x, y = _centre(session)
    conditions = [x.between(minx, maxx), y.between(miny, maxy)]
    if session.get_bind().dialect.name == "postgresql":
        # The planner decides between the GiST index and the layer_id index by itself.
        conditions.append(Feature.geom.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID)))
    elif use_index:
        # SpatiaLite never uses its R*Tree by itself. Asking it pays off for a small part of a layer only:
        # reading the MBRs of a whole 100k layer is ~4x faster than 100k rowids from the index.
        conditions.append(Feature.id.in_(
            select(text("ROWID")).select_from(text("SpatialIndex"))
            .where(text("f_table_name = 'features'"), text("f_geometry_column = 'geom'"),
                   text("search_frame = BuildMbr(:minx, :miny, :maxx, :maxy, :srid)"))
            .params(minx=minx, miny=miny, maxx=maxx, maxy=maxy, srid=SRID)))
    return conditions


def _cell_index(session: Session, value, origin: float, size: float):
    """Return SQL for floor((value - origin) / size): the grid column or row (value >= origin always)."""
    shifted = (value - origin) / size
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(shifted), Integer)
    return cast(shifted, Integer)  # SQLite truncates, which is floor for the non-negative values here


def cell_counts(session: Session, layer_id: int, bbox: BBox, width: float, height: float, *,
                use_index: bool = True, viewer_id: int | None = None) -> list[CellCount]:
    """Count a layer's public features (and the viewer's pending ones) centred in `bbox` per grid cell of
    width x height degrees from (-180, -90)."""
    x, y = _centre(session)
    column = _cell_index(session, x, -180.0, width).label("col")
    row = _cell_index(session, y, -90.0, height).label("row")
    rows = session.execute(
        select(column, row, func.count(), func.avg(x), func.avg(y), func.min(x), func.min(y), func.max(x),
               func.max(y))
        .where(Feature.layer_id == layer_id, visible_to(viewer_id), *_in_view(session, bbox, use_index))
        .group_by(column, row)
        .order_by(column, row)
    )
    return [CellCount(int(c), int(r), int(n), float(ax), float(ay), (float(x0), float(y0), float(x1), float(y1)))
            for c, r, n, ax, ay, x0, y0, x1, y1 in rows]


def pins_in_bbox(session: Session, layer_id: int, bbox: BBox, *, limit: int, viewer_id: int | None = None,
                 use_index: bool = True) -> list[PinRow]:
    """Return up to `limit` public features (and the viewer's own pending ones) centred in `bbox` as pins, in id
    order, with vote counts."""
    x, y = _centre(session)
    is_point = (func.GeometryType(Feature.geom).in_(["POINT", "ST_Point"]))
    rows = session.execute(
        select(Feature.id, x, y, Feature.properties, Feature.theme, Feature.status, Feature.is_demo,
               vote_count_column(), Feature.author_id, is_point, Feature.geom, Feature.visibility)
        .where(Feature.layer_id == layer_id, visible_to(viewer_id), *_in_view(session, bbox, use_index))
        .order_by(Feature.id)
        .limit(limit)
    ).all()
    voted: set[int] = set()
    if viewer_id is not None and rows:
        ids = [r[0] for r in rows]
        voted = set(session.scalars(select(Vote.feature_id).where(
            and_(Vote.user_id == viewer_id, Vote.feature_id.in_(ids)))))
    return [PinRow(fid, float(lon), float(lat), dict(props or {}), theme, status, bool(demo), int(votes or 0),
                   viewer_id is not None and author == viewer_id, fid in voted,
                   None if point else to_shape(geom), visibility)
            for fid, lon, lat, props, theme, status, demo, votes, author, point, geom, visibility in rows]

"""Queries and writes on the features of a layer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, and_, delete, func, insert, literal_column, or_, select
from sqlalchemy.orm import Session

from mapsvc.storage.models import SRID, Feature, utcnow
from mapsvc.storage.spatial_sql import BBox, features_in_bbox
from mapsvc.storage.votes import vote_count_column

VISIBLE, PENDING, HIDDEN = "visible", "pending", "hidden"
# The one condition that makes a feature public: every public reader (API, pins, OGC, exports, rankings,
# counts, nearby duplicates) filters on it. Pending pins wait for pre-moderation; hidden ones were taken down.
PUBLIC = Feature.visibility == VISIBLE


def visible_to(viewer_id: int | None):
    """Return the condition for what a person sees: public features, and their own pending pins."""
    if viewer_id is None:
        return PUBLIC
    return or_(PUBLIC, and_(Feature.visibility == PENDING, Feature.author_id == viewer_id))


def not_public_ids(layer_id) -> Select:
    """Select the ids of a layer's pending and hidden features (few; read from the (layer_id, visibility) index).

    `Feature.id NOT IN (this)` filters on visibility without reading each matching row, so a query that an
    index covers (OGC's bbox index holds layer_id and id only) stays index-only.
    """
    others = Feature.__table__.alias("not_public")  # an alias: never correlated with an outer features
    # Constants, not bound values: OGC compiles this statement to text once (no expanding IN parameters then).
    states = [literal_column(f"'{state}'") for state in (PENDING, HIDDEN)]
    return select(others.c.id).where(others.c.layer_id == layer_id, others.c.visibility.in_(states))


@dataclass(frozen=True)
class FeatureFilter:
    """Which features of a layer to read: every field optional, all given ones must hold."""

    bbox: BBox | None = None
    statuses: Sequence[str] = ()
    themes: Sequence[str] = ()
    created_from: datetime | None = None   # inclusive
    created_to: datetime | None = None     # exclusive
    # simple equality on the layer's own fields, compared as text: {"operator": "Allego"}
    properties: Mapping[str, str] = field(default_factory=dict)
    public_only: bool = True               # False: pending and hidden too (moderators, officials' exports)
    viewer_id: int | None = None           # with public_only: also this person's own pending pins


def feature_query(session: Session, layer_id: int, where: FeatureFilter = FeatureFilter(), *,
                  with_votes: bool = True) -> Select:
    """Build a SELECT of (Feature, vote_count) rows of a layer in id order; add limit/offset or stream it."""
    columns = [Feature, vote_count_column()] if with_votes else [Feature]
    return select(*columns).where(*feature_conditions(session, layer_id, where)).order_by(Feature.id)


def feature_conditions(session: Session, layer_id: int, where: FeatureFilter) -> list:
    """Return the WHERE conditions for a filter (for counts and for pages alike)."""
    conditions = [Feature.layer_id == layer_id]
    if where.public_only:
        conditions.append(visible_to(where.viewer_id))
    if where.bbox is not None:
        conditions.append(features_in_bbox(session, where.bbox))
    if where.statuses:
        conditions.append(Feature.status.in_(list(where.statuses)))
    if where.themes:
        conditions.append(Feature.theme.in_(list(where.themes)))
    if where.created_from is not None:
        conditions.append(Feature.created_at >= where.created_from)
    if where.created_to is not None:
        conditions.append(Feature.created_at < where.created_to)
    for name, value in where.properties.items():
        conditions.append(Feature.properties[name].as_string() == value)
    return conditions


def count_matching(session: Session, layer_id: int, where: FeatureFilter) -> int:
    """Count a layer's features that pass a filter."""
    return session.scalar(select(func.count()).select_from(Feature)
                          .where(*feature_conditions(session, layer_id, where)))


def _filters(session: Session, layer_id: int, bbox: BBox | None) -> list:
    conditions = [Feature.layer_id == layer_id, PUBLIC]
    if bbox is not None:
        conditions.append(features_in_bbox(session, bbox))
    return conditions


def count_features(session: Session, layer_id: int, bbox: BBox | None = None) -> int:
    """Count a layer's public features, inside `bbox` when given."""
    return session.scalar(select(func.count()).select_from(Feature).where(*_filters(session, layer_id, bbox)))


def page_of_features(session: Session, layer_id: int, *, bbox: BBox | None, limit: int,
                     offset: int) -> list[tuple[Feature, BaseGeometry, int]]:
    """Return one page of a layer's public features in id order, each with its shapely geometry and vote count."""
    rows = session.execute(feature_query(session, layer_id, FeatureFilter(bbox=bbox)).limit(limit).offset(offset))
    return [(feature, to_shape(feature.geom), votes) for feature, votes in rows]


def get_feature(session: Session, layer_id: int, feature_id: int, *,
                viewer_id: int | None = None) -> tuple[Feature, BaseGeometry, int] | None:
    """Return one public feature of a layer (or the viewer's own pending one) with geometry and votes, or None."""
    where = FeatureFilter(viewer_id=viewer_id)
    row = session.execute(feature_query(session, layer_id, where).where(Feature.id == feature_id)).first()
    return None if row is None else (row[0], to_shape(row[0].geom), row[1])


def insert_features(session: Session, layer_id: int, rows: Iterable[dict[str, Any]]) -> int:
    """Insert features in bulk; each row has 'geometry' (shapely, lon/lat) and Feature's other fields."""
    now = utcnow()
    values = []
    for row in rows:
        row = dict(row)
        geometry = row.pop("geometry")
        values.append({
            "layer_id": layer_id,
            "geom": from_shape(geometry, srid=SRID),
            "properties": row.pop("properties", {}),
            "is_demo": row.pop("is_demo", False),
            "created_at": row.pop("created_at", now),
            "updated_at": row.pop("updated_at", now),
            **row,
        })
    if values:
        session.execute(insert(Feature), values)
    return len(values)


def delete_features(session: Session, layer_id: int, *, demo_only: bool = False) -> int:
    """Delete a layer's features (only the demo ones when asked) and return how many went."""
    statement = delete(Feature).where(Feature.layer_id == layer_id)
    if demo_only:
        statement = statement.where(Feature.is_demo.is_(True))
    return session.execute(statement).rowcount

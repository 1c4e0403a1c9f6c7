"""Queries and writes on the features of a layer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from mapsvc.storage.models import SRID, Feature, utcnow
from mapsvc.storage.spatial_sql import BBox, features_in_bbox


def _filters(session: Session, layer_id: int, bbox: BBox | None) -> list:
    conditions = [Feature.layer_id == layer_id]
    if bbox is not None:
        conditions.append(features_in_bbox(session, bbox))
    return conditions


def count_features(session: Session, layer_id: int, bbox: BBox | None = None) -> int:
    """Count a layer's features, inside `bbox` when given."""
    return session.scalar(select(func.count()).select_from(Feature).where(*_filters(session, layer_id, bbox)))


def page_of_features(session: Session, layer_id: int, *, bbox: BBox | None, limit: int,
                     offset: int) -> list[tuple[Feature, BaseGeometry]]:
    """Return one page of a layer's features in id order, each with its shapely geometry."""
    rows = session.scalars(
        select(Feature).where(*_filters(session, layer_id, bbox)).order_by(Feature.id).limit(limit).offset(offset)
    )
    return [(feature, to_shape(feature.geom)) for feature in rows]


def get_feature(session: Session, layer_id: int, feature_id: int) -> tuple[Feature, BaseGeometry] | None:
    """Return one feature of a layer with its geometry, or None."""
    feature = session.scalar(select(Feature).where(Feature.layer_id == layer_id, Feature.id == feature_id))
    return None if feature is None else (feature, to_shape(feature.geom))


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

"""Stream a layer's features for export, with vote counts and the author's public display name only.

The SELECT names every column it reads: no email, no user id, no voter, and the author's display name
only when they chose one. Rows stream (`yield_per`; a server-side cursor on PostGIS), so memory stays
bounded whatever the layer's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapsvc.storage.features import FeatureFilter, feature_conditions
from mapsvc.storage.models import Feature, Flag, User
from mapsvc.storage.votes import vote_count_column

BATCH = 1000


@dataclass(frozen=True, slots=True)
class ExportedFeature:
    """One feature as an export sees it: public fields, a vote count and a chosen display name."""

    id: int
    geometry: BaseGeometry
    properties: dict[str, Any]
    theme: str | None
    status: str | None
    official_answer: str | None
    vote_count: int
    is_demo: bool
    source: str
    source_ref: str | None
    author_display_name: str | None
    created_at: datetime
    updated_at: datetime
    # Moderation detail, read only for officials' exports (include_moderation): never the flaggers or moderators.
    visibility: str = "visible"
    moderation_reason: str | None = None
    moderated_at: datetime | None = None
    open_flags: int = 0


def exported_features(session: Session, layer_id: int, where: FeatureFilter = FeatureFilter(), *,
                      batch_size: int = BATCH, moderation: bool = False) -> Iterator[ExportedFeature]:
    """Yield a layer's features that pass `where`, in id order, fetching `batch_size` rows at a time
    (`moderation`: with visibility, moderation reason and time, and the count of open flags)."""
    display_name = func.nullif(func.trim(User.display_name), "")
    query = (
        select(Feature.id, Feature.geom, Feature.properties, Feature.theme, Feature.status, Feature.official_answer,
               vote_count_column(), Feature.is_demo, Feature.source, Feature.source_ref,
               display_name.label("author_display_name"), Feature.created_at, Feature.updated_at,
               *_moderation_columns(moderation))
        .outerjoin(User, User.id == Feature.author_id)
        .where(*feature_conditions(session, layer_id, where))
        .order_by(Feature.id)
        .execution_options(yield_per=batch_size)
    )
    for rows in session.execute(query).partitions():
        # One vectorised WKB decode per batch: a third of the time per row, against to_shape row by row.
        geometries = shapely.from_wkb([_wkb(row.geom.data) for row in rows])
        for row, geometry in zip(rows, geometries):
            yield ExportedFeature(row.id, geometry, row.properties or {}, row.theme, row.status,
                                  row.official_answer, row.vote_count or 0, bool(row.is_demo), row.source,
                                  row.source_ref, row.author_display_name, row.created_at, row.updated_at,
                                  *(row[13:] if moderation else ()))


def _moderation_columns(moderation: bool) -> list:
    if not moderation:
        return []
    open_flags = (select(func.count()).where(Flag.feature_id == Feature.id, Flag.resolved_at.is_(None))
                  .correlate(Feature).scalar_subquery())
    return [Feature.visibility, Feature.moderation_reason, Feature.moderated_at, open_flags.label("open_flags")]


def _wkb(data) -> bytes | str:
    """GeoAlchemy2 hands WKB as bytes/memoryview (PostGIS) or hex text (SpatiaLite); shapely reads both."""
    return data if isinstance(data, (str, bytes)) else bytes(data)

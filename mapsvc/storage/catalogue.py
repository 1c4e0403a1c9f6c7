"""Queries on platforms and layers."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from mapsvc.storage.features import PUBLIC
from mapsvc.storage.models import Feature, Layer, Platform


def list_platforms(session: Session) -> list[Platform]:
    """Return every platform, by slug."""
    return list(session.scalars(select(Platform).order_by(Platform.slug)))


def find_platform(session: Session, slug: str) -> Platform | None:
    """Return the platform with this slug, or None."""
    return session.scalar(select(Platform).where(Platform.slug == slug))


def find_layer(session: Session, platform_id: int, slug: str) -> Layer | None:
    """Return the layer with this slug on a platform, or None."""
    return session.scalar(select(Layer).where(Layer.platform_id == platform_id, Layer.slug == slug))


def feature_counts(session: Session, layer_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Count the public features of each layer: (all, demo)."""
    if not layer_ids:
        return {}
    rows = session.execute(
        select(Feature.layer_id, func.count(), func.sum(case((Feature.is_demo, 1), else_=0)))
        .where(Feature.layer_id.in_(layer_ids), PUBLIC)
        .group_by(Feature.layer_id)
    )
    counts = {layer_id: (0, 0) for layer_id in layer_ids}
    for layer_id, total, demo in rows:
        counts[layer_id] = (int(total), int(demo or 0))
    return counts

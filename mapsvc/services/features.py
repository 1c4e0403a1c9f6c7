"""Read the features of a layer: pages, bbox filters, single features."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from mapsvc.errors import NotFound
from mapsvc.services.catalogue import get_visible_layer
from mapsvc.services.permissions import Actor
from mapsvc.storage import features as store
from mapsvc.storage.models import Feature, Layer, Platform
from mapsvc.storage.spatial_sql import BBox


@dataclass
class FeaturePage:
    """One page of a layer's features and how many match in all."""

    platform: Platform
    layer: Layer
    items: list[tuple[Feature, BaseGeometry, int]]
    number_matched: int
    limit: int
    offset: int


def feature_page(session: Session, actor: Actor, platform_slug: str, layer_slug: str, *, bbox: BBox | None,
                 limit: int, offset: int) -> FeaturePage:
    """Return one page of a layer's features, inside `bbox` when given."""
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    items = store.page_of_features(session, layer.id, bbox=bbox, limit=limit, offset=offset)
    matched = (offset + len(items) if 0 < len(items) < limit
               else store.count_features(session, layer.id, bbox))
    return FeaturePage(platform, layer, items, matched, limit, offset)


def one_feature(session: Session, actor: Actor, platform_slug: str, layer_slug: str,
                feature_id: int) -> tuple[Feature, BaseGeometry, int]:
    """Return one public feature (or the actor's own pending pin) with geometry and vote count, or raise NotFound."""
    _platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    found = store.get_feature(session, layer.id, feature_id, viewer_id=actor.user_id)
    if found is None:
        raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
    return found

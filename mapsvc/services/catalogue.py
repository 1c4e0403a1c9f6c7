"""Find platforms and layers by slug, with errors a person can act on."""

from __future__ import annotations

from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from mapsvc.errors import NotFound
from mapsvc.layers.rules import LayerRules
from mapsvc.services.permissions import Actor, can_moderate
from mapsvc.storage import catalogue as store
from mapsvc.storage.models import Layer, Platform


def get_platform(session: Session, slug: str) -> Platform:
    """Return the platform or raise NotFound listing the ones that exist."""
    platform = store.find_platform(session, slug)
    if platform is None:
        known = ", ".join(p.slug for p in store.list_platforms(session)) or "none yet"
        raise NotFound(f"No platform {slug[:64]!r}; known platforms: {known}.", code="unknown_platform")
    return platform


def get_layer(session: Session, platform_slug: str, layer_slug: str) -> tuple[Platform, Layer]:
    """Return a platform and one of its layers, or raise NotFound listing the platform's layers."""
    platform = get_platform(session, platform_slug)
    layer = store.find_layer(session, platform.id, layer_slug)
    if layer is None:
        known = ", ".join(layer.slug for layer in platform.layers) or "none"
        raise NotFound(f"Platform {platform.slug!r} has no layer {layer_slug[:64]!r}; its layers: {known}.",
                       code="unknown_layer")
    return platform, layer


def may_see(actor: Actor, platform: Platform, layer: Layer) -> bool:
    """A public layer is for everyone; a non-public one for the platform's staff and the layer's manager."""
    return layer.is_public or can_moderate(actor, platform.id, layer.id)


def get_visible_layer(session: Session, actor: Actor, platform_slug: str,
                      layer_slug: str) -> tuple[Platform, Layer]:
    """Like get_layer, but a layer the actor may not see is reported as unknown (its existence stays private)."""
    platform, layer = get_layer(session, platform_slug, layer_slug)
    if not may_see(actor, platform, layer):
        known = ", ".join(l.slug for l in platform.layers if may_see(actor, platform, l)) or "none"
        raise NotFound(f"Platform {platform.slug!r} has no layer {layer_slug[:64]!r}; its layers: {known}.",
                       code="unknown_layer")
    return platform, layer


def rules_for(platform: Platform, layer: Layer) -> LayerRules:
    """Build the validation rules of a layer on its platform."""
    return LayerRules.build(
        kind=layer.kind, geometry_type=layer.geometry_type, property_schema=layer.property_schema,
        themes=layer.themes, boundary=to_shape(platform.boundary), boundary_name=platform.name_nl,
    )

"""Residents' suggestions: drop a pin, edit or withdraw it while it is submitted."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from mapsvc.layers.catalogue import SUGGESTIONS
from mapsvc.layers.rules import FeatureInvalid, validate_feature
from mapsvc.layers.status import SUBMITTED
from mapsvc.layers.window import window_state
from mapsvc.services.catalogue import get_visible_layer, rules_for
from mapsvc.services.moderation import initial_visibility
from mapsvc.services.permissions import Actor, can_contribute, can_edit_pin
from mapsvc.spatial.distance import bbox_around, metres_from
from mapsvc.storage import features as store
from mapsvc.storage.models import SRID, Feature, Layer, Platform
from mapsvc.storage.votes import vote_counts

CONTRIBUTED = "contributed by a resident on mapsvc"


@dataclass
class Nearby:
    """A suggestion close to where a new one is being dropped."""

    id: int
    title: str | None
    distance_m: float
    vote_count: int


def parse_feature(body: Any) -> tuple[BaseGeometry | None, dict[str, Any], str | None]:
    """Read a GeoJSON Feature sent by a client into geometry, properties and theme."""
    if not isinstance(body, Mapping) or body.get("type") != "Feature":
        raise BadRequest('Send a GeoJSON Feature: {"type": "Feature", "geometry": {...}, "properties": {...}}.',
                         code="not_a_feature")
    properties = body.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise BadRequest("The feature's properties must be a JSON object.", code="not_a_feature")
    properties = dict(properties)
    theme = properties.pop("theme", None)
    if theme is not None and not isinstance(theme, str):
        raise BadRequest("theme must be text.", code="invalid_theme")
    raw = body.get("geometry")
    if raw is None:
        return None, properties, theme
    try:
        geometry = shape(raw)
    except Exception:  # shapely raises several types for malformed GeoJSON
        raise BadRequest("The geometry is not valid GeoJSON (e.g. {\"type\": \"Point\", \"coordinates\": [lon, lat]}).",
                         code="invalid_geometry") from None
    coords = shapely.get_coordinates(geometry)
    if coords.size and not all(math.isfinite(v) for v in coords.ravel()):
        raise BadRequest("Coordinates must be finite numbers.", code="invalid_geometry")
    return geometry, properties, theme


def _open_suggestion_layer(layer: Layer, now: datetime) -> None:
    if layer.kind != SUGGESTIONS:
        raise Forbidden(f"Layer {layer.slug!r} shows existing things; residents add suggestions elsewhere.",
                        code="not_a_suggestion_layer")
    state = window_state(layer.opens_at, layer.closes_at, now)
    if state != "open":
        when = "has not opened yet" if state == "not_yet_open" else "is closed"
        raise Forbidden(f"This participation moment {when}; contributions are not possible now.", code="layer_closed")


def _validated(platform: Platform, layer: Layer, geometry, properties, theme):
    try:
        return validate_feature(rules_for(platform, layer), geometry, properties, theme=theme)
    except FeatureInvalid as exc:
        raise ValidationFailed(str(exc), details={"problems": [p.to_json() for p in exc.problems]}) from None


def nearby_suggestions(session: Session, layer: Layer, geometry: BaseGeometry, *,
                       exclude_id: int | None = None) -> list[Nearby]:
    """Return the layer's suggestions within its duplicate distance of `geometry`, nearest first."""
    radius = layer.duplicate_distance_m
    if not radius or radius <= 0:
        return []
    point = geometry.representative_point() if geometry.geom_type != "Point" else geometry
    near = store.FeatureFilter(bbox=bbox_around(point.x, point.y, radius),
                               statuses=("submitted", "under_review", "selected", "realised"))
    candidates = [f for (f,) in session.execute(store.feature_query(session, layer.id, near, with_votes=False))
                  if f.id != exclude_id]
    if not candidates:
        return []
    shapes = [to_shape(f.geom).representative_point() for f in candidates]
    distances = metres_from(point.x, point.y, [s.x for s in shapes], [s.y for s in shapes])
    counts = vote_counts(session, [f.id for f in candidates])
    found = [Nearby(f.id, (f.properties or {}).get("title"), round(float(d), 1), counts[f.id])
             for f, d in zip(candidates, distances) if d <= radius]
    return sorted(found, key=lambda n: (n.distance_m, n.id))


Shown = tuple[Feature, BaseGeometry, int]  # a feature, its geometry and its vote count, ready to render


def create_suggestion(session: Session, actor: Actor, platform_slug: str, layer_slug: str, body: Any, *,
                      now: datetime, allow_nearby: bool = False) -> Shown:
    """Check every rule and store a new suggestion by `actor`; duplicates nearby are a 409 unless allowed."""
    if not can_contribute(actor):
        raise Unauthorized("Log in to drop a pin.")
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    _open_suggestion_layer(layer, now)
    geometry, properties, theme = parse_feature(body)
    valid = _validated(platform, layer, geometry, properties, theme)
    if not allow_nearby:
        nearby = nearby_suggestions(session, layer, valid.geometry)
        if nearby:
            raise Conflict(
                f"{len(nearby)} suggestion(s) lie within {layer.duplicate_distance_m:g} m; support one of them, "
                "or send again with allow_nearby=true to add yours.", code="nearby_duplicates",
                details={"nearby": [n.__dict__ for n in nearby]})
    feature = Feature(layer_id=layer.id, geom=from_shape(valid.geometry, srid=SRID), properties=valid.properties,
                      theme=valid.theme, status=SUBMITTED, source=CONTRIBUTED, is_demo=False, author_id=actor.user_id,
                      visibility=initial_visibility(actor, platform, layer), created_at=now, updated_at=now)
    session.add(feature)
    session.flush()
    return feature, valid.geometry, 0


def _own_submitted(session: Session, actor: Actor, layer: Layer, feature_id: int, now: datetime) -> Feature:
    feature = session.get(Feature, feature_id)
    if feature is None or feature.layer_id != layer.id:
        raise NotFound(f"Layer {layer.slug!r} has no feature {feature_id}.", code="unknown_feature")
    if not can_edit_pin(actor, feature.author_id):
        raise Forbidden("Only the author may change or withdraw this suggestion.", code="not_the_author")
    if feature.status != SUBMITTED:
        raise Conflict(f"This suggestion is {feature.status!r} now; it can only be changed while it is submitted.",
                       code="no_longer_editable")
    _open_suggestion_layer(layer, now)
    return feature


def update_suggestion(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int,
                      body: Any, *, now: datetime) -> Shown:
    """Replace the author's own submitted suggestion with the sent Feature (every rule checked again)."""
    platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    feature = _own_submitted(session, actor, layer, feature_id, now)
    geometry, properties, theme = parse_feature(body)
    valid = _validated(platform, layer, geometry if geometry is not None else to_shape(feature.geom),
                       properties, theme)
    feature.geom = from_shape(valid.geometry, srid=SRID)
    feature.properties, feature.theme, feature.updated_at = valid.properties, valid.theme, now
    if feature.visibility == "visible":  # on a pre-moderated layer an edited pin waits for approval again
        feature.visibility = initial_visibility(actor, platform, layer)
    session.flush()
    return feature, valid.geometry, vote_counts(session, [feature.id])[feature.id]


def withdraw_suggestion(session: Session, actor: Actor, platform_slug: str, layer_slug: str, feature_id: int, *,
                        now: datetime) -> None:
    """Delete the author's own submitted suggestion, with its votes."""
    _platform, layer = get_visible_layer(session, actor, platform_slug, layer_slug)
    session.delete(_own_submitted(session, actor, layer, feature_id, now))
    session.flush()

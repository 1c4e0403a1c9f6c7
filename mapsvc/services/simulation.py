"""Fill a suggestion layer with demo pins from the seeded participation simulator."""

from __future__ import annotations

import zlib

from geoalchemy2.shape import to_shape
from shapely import Point
from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest
from mapsvc.layers.catalogue import INITIATIVES
from mapsvc.layers.rules import FeatureInvalid, validate_feature
from mapsvc.services.catalogue import get_layer, rules_for
from mapsvc.storage.features import delete_features, insert_features
from mapsvc.suggest.simulator import FLAVOURS, simulate_initiatives, simulate_participation

SOURCE = "mapsvc participation simulator: demo data, seed {seed}"


def layer_seed(base_seed: int, platform_slug: str, layer_slug: str) -> int:
    """Derive a stable seed per layer, so every layer gets different but reproducible demo pins."""
    return base_seed * 1_000_003 + zlib.crc32(f"{platform_slug}/{layer_slug}".encode())


def simulate_layer(session: Session, platform_slug: str, layer_slug: str, *, n: int, seed: int,
                   replace: bool = False) -> int:
    """Generate `n` demo features on a layer (labelled demo) and return how many were stored."""
    platform, layer = get_layer(session, platform_slug, layer_slug)
    if layer.kind != INITIATIVES and layer.slug not in FLAVOURS:
        raise BadRequest(
            f"The simulator makes demo pins for {', '.join(sorted(FLAVOURS))} and initiatives, not {layer.slug!r}.",
            code="no_simulator_for_layer",
        )
    rules = rules_for(platform, layer)
    boundary = to_shape(platform.boundary)
    if replace:
        delete_features(session, layer.id, demo_only=True)
    rows = []
    source = SOURCE.format(seed=seed)
    if layer.kind == INITIATIVES:
        for item in simulate_initiatives(boundary, n=n, seed=seed):
            props = {"name": item.name, "organiser": item.organiser, "address": item.address,
                     "link": item.link, "description": item.description}
            valid = _valid(rules, Point(item.lon, item.lat), props, item.theme)
            rows.append(_row(valid, source, item.key))
    else:
        simulation = simulate_participation(boundary, layer.slug, n_pins=n, seed=seed)
        for pin in simulation.pins:
            valid = _valid(rules, pin.geometry, pin.properties, pin.theme)
            rows.append({**_row(valid, source, pin.key), "created_at": pin.created_at,
                         "updated_at": pin.created_at})
    return insert_features(session, layer.id, rows)


def _valid(rules, geometry, properties, theme):
    try:
        return validate_feature(rules, geometry, {k: v for k, v in properties.items() if v is not None},
                                theme=theme)
    except FeatureInvalid as exc:  # the simulator and the layer catalogue disagree: a bug, say it loudly
        raise RuntimeError(f"Simulated feature breaks the layer's rules: {exc}") from exc


def _row(valid, source: str, key: str) -> dict:
    return {"geometry": valid.geometry, "properties": valid.properties, "theme": valid.theme,
            "status": valid.status, "is_demo": True, "source": source, "source_ref": key}

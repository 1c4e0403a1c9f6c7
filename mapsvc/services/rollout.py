"""Plan a platform's charging-point rollout for its staff: requests, existing points, candidates, plan.

Each charging request weighs its support score: its distinct supporters under the ranking's rule (an
imported request without an author counts as one person). Existing points come from an asset layer of the
same platform. Candidate sites are, by default, the centroids of the request clusters and the requests
themselves; or another layer of the platform; or points sent with the request (GeoJSON). Only officials
and admins of the platform may plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest
from mapsvc.layers.catalogue import ASSETS, SUGGESTIONS
from mapsvc.services.catalogue import get_layer, get_platform
from mapsvc.services.permissions import Actor
from mapsvc.services.ranking import read_support, require_official
from mapsvc.storage import ranking as store
from mapsvc.storage.features import FeatureFilter
from mapsvc.storage.models import Layer, Platform
from mapsvc.suggest.ranking import SupportRule, rank_hotspots, support
from mapsvc.suggest.rollout import Points, RolloutPlan, default_candidates, plan_rollout

MAX_UPLOADED = 10_000
MAX_SITES = 1000


@dataclass(frozen=True)
class RolloutInputs:
    """What staff choose: the layers (slugs of this platform), radius, how many sites, per phase."""
    requests_layer: str = "charging-requests"
    existing_layer: str = "charging-points"
    candidates_layer: str | None = None
    uploaded_candidates: dict | None = None      # a GeoJSON FeatureCollection of points
    radius_m: float = 250.0
    n_sites: int = 10
    per_phase: int | None = None
    exact: bool | None = None                    # None: solve exactly when the model is small enough
    eps_m: float = 75.0                          # clustering of requests into default candidates
    min_pins: int = 3


@dataclass(frozen=True)
class Rollout:
    """A plan with everything needed to draw and explain it."""
    platform: Platform
    inputs: RolloutInputs
    plan: RolloutPlan
    requests: Points
    existing: Points
    candidates: Points
    candidates_source: str


def _layer(session: Session, platform: Platform, reference: str, role: str, kind: str | None) -> Layer:
    """Resolve 'layer' or 'platform/layer' to a layer of this platform, refusing other platforms' layers."""
    platform_slug, _, layer_slug = reference.rpartition("/")
    if platform_slug and platform_slug != platform.slug:
        raise BadRequest(f"The {role} layer {reference!r} belongs to another platform; a rollout for "
                         f"{platform.slug!r} uses its own layers only.", code="other_platform")
    _, layer = get_layer(session, platform.slug, layer_slug)
    if kind is not None and layer.kind != kind:
        raise BadRequest(f"The {role} layer must hold {kind}; {layer.slug!r} holds {layer.kind}.",
                         code="wrong_layer_kind")
    return layer


def candidates_from_geojson(collection) -> Points:
    """Read uploaded candidate sites: a GeoJSON FeatureCollection of Points (ids from 'id' or position)."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list):
        raise BadRequest("candidates must be a GeoJSON FeatureCollection of Point features.", code="bad_candidates")
    features = collection["features"]
    if not 1 <= len(features) <= MAX_UPLOADED:
        raise BadRequest(f"Send between 1 and {MAX_UPLOADED} candidate sites.", code="bad_candidates")
    ids, lon, lat = [], [], []
    for n, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not (isinstance(geometry, dict) and geometry.get("type") == "Point" and isinstance(coords, list)
                and len(coords) >= 2 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords[:2])
                and -180 <= coords[0] <= 180 and -90 <= coords[1] <= 90):
            raise BadRequest(f"Candidate feature {n} is not a Point with lon/lat coordinates.", code="bad_candidates")
        ids.append(str(feature.get("id", f"candidate-{n}")))
        lon.append(float(coords[0]))
        lat.append(float(coords[1]))
    if len(set(ids)) != len(ids):
        raise BadRequest("Candidate feature ids must be unique.", code="bad_candidates")
    return Points(ids, lon, lat)


def check_inputs(inputs: RolloutInputs) -> None:
    """Refuse absurd numbers before any database work, saying what to change."""
    problems = []
    if not (isinstance(inputs.radius_m, (int, float)) and math.isfinite(inputs.radius_m) and 0 < inputs.radius_m <= 5000):
        problems.append("radius_m must be more than 0 and at most 5000 metres (250 m is the Flemish rule)")
    if not 1 <= inputs.n_sites <= MAX_SITES:
        problems.append(f"n_sites must be between 1 and {MAX_SITES}")
    if inputs.per_phase is not None and not 1 <= inputs.per_phase <= MAX_SITES:
        problems.append(f"per_phase must be between 1 and {MAX_SITES}")
    if not (math.isfinite(inputs.eps_m) and 0 < inputs.eps_m <= 1000) or not 1 <= inputs.min_pins <= 1000:
        problems.append("eps_m must be in (0, 1000] metres and min_pins in [1, 1000]")
    if inputs.candidates_layer and inputs.uploaded_candidates is not None:
        problems.append("give candidates_layer or uploaded candidates, not both")
    if problems:
        raise BadRequest("; ".join(problems) + ".", code="bad_rollout_input")


def plan_platform_rollout(session: Session, actor: Actor, platform_slug: str, inputs: RolloutInputs) -> Rollout:
    """Plan where the platform's next public charging points go, for an official of the platform."""
    platform = get_platform(session, platform_slug)
    require_official(actor, platform)
    check_inputs(inputs)
    request_layer = _layer(session, platform, inputs.requests_layer, "requests", SUGGESTIONS)
    existing_layer = _layer(session, platform, inputs.existing_layer, "existing points", ASSETS)
    pins, votes = read_support(session, request_layer, FeatureFilter())
    if not len(pins):
        raise BadRequest(f"Layer {request_layer.slug!r} has no charging requests to plan for.", code="no_requests")
    s = support(pins, votes, np.arange(len(pins)), len(pins), SupportRule())
    requests = Points(pins.id, pins.lon, pins.lat, s["score"])
    e = store.pin_columns(session, existing_layer.id)
    existing = Points(e.id, e.lon, e.lat)
    if inputs.uploaded_candidates is not None:
        candidates, source = candidates_from_geojson(inputs.uploaded_candidates), "uploaded"
    elif inputs.candidates_layer:
        layer = _layer(session, platform, inputs.candidates_layer, "candidates", None)
        c = store.pin_columns(session, layer.id)
        candidates, source = Points([f"{layer.slug}-{i}" for i in c.id.tolist()], c.lon, c.lat), f"layer {layer.slug}"
    else:
        clusters = [p for p in rank_hotspots(pins, votes, eps_m=inputs.eps_m, min_pins=inputs.min_pins)
                    if p.is_cluster]
        candidates = default_candidates(requests, [p.lon for p in clusters], [p.lat for p in clusters])
        source = "request clusters and requests"
    try:
        plan = plan_rollout(requests, existing, candidates, radius_m=float(inputs.radius_m), n_sites=inputs.n_sites,
                            per_phase=inputs.per_phase, exact=inputs.exact)
    except ValueError as exc:
        raise BadRequest(f"{exc}.", code="bad_rollout_input") from exc
    return Rollout(platform, inputs, plan, requests, existing, candidates, source)

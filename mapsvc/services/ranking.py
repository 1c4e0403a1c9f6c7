"""Rank a layer for an official: hotspots of suggestions, roofs by support, or book-cabinet gaps.

Which analysis a layer gets follows its domain: suggestion layers cluster into hotspots (unpaving spots,
charging requests, the Christmas village), solar roofs rank one by one with their roof area, and the
book-cabinet layer is a gap analysis on Statbel's population grid. Only officials and admins of the
platform may run it. Voter and author ids stay inside this module: results carry counts only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, Forbidden, Unauthorized
from mapsvc.layers.catalogue import SUGGESTIONS
from mapsvc.layers.status import STATUSES
from mapsvc.services.catalogue import get_layer
from mapsvc.services.permissions import Actor, is_official
from mapsvc.storage import catalogue as catalogue_store
from mapsvc.storage import ranking as store
from mapsvc.storage.features import FeatureFilter
from mapsvc.storage.models import Layer, Platform
from mapsvc.suggest import gaps as gap_analysis
from mapsvc.suggest.ranking import UNKNOWN, Pins, Place, Votes, rank_hotspots, rank_pins, roof_areas_m2

HOTSPOTS, ROOFS, GAPS = "hotspots", "roofs", "gaps"
ROOF_LAYERS = ("solar-roofs",)
GAP_LAYERS = ("book-cabinets",)
GRID_FILE = Path("statbel") / "population_grid_1km_2020.geojson"
MAX_EPS_M, MAX_MIN_PINS, MAX_LIMIT = 1000.0, 1000, 100_000


@dataclass(frozen=True)
class RankingQuery:
    """What an official asks: clustering in metres, filters, how many places, the walking radius."""
    eps_m: float = 75.0
    min_pins: int = 3
    statuses: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int | None = None
    walk_radius_m: float = 500.0


@dataclass(frozen=True)
class LayerRanking:
    """A ranked layer: places (hotspots, roofs) or gaps, with the inputs' sizes and the parameters used."""
    platform: Platform
    layer: Layer
    variant: str
    query: RankingQuery
    places: list[Place] = field(default_factory=list)
    gaps: list[gap_analysis.Gap] = field(default_factory=list)
    n_pins: int = 0
    n_votes: int = 0
    n_places: int = 0
    demo_features: int = 0         # of the layer's features, how many are generated demo data


def require_official(actor: Actor, platform: Platform) -> None:
    """Refuse anyone but the platform's officials and admins (a command-line actor may hold the grant)."""
    if is_official(actor, platform.id):
        return
    if not actor.is_authenticated:
        raise Unauthorized("Log in as an official of this platform to see rankings and rollout plans.")
    raise Forbidden(f"Only officials of {platform.name_nl} may see rankings and rollout plans.",
                    code="officials_only")


def variant_of(layer: Layer) -> str:
    """Say which analysis a layer gets, or refuse a layer that has none."""
    if layer.slug in GAP_LAYERS:
        return GAPS
    if layer.kind != SUGGESTIONS:
        raise BadRequest(f"Layer {layer.slug!r} holds {layer.kind}, not suggestions: it has no ranking. Rank a "
                         f"suggestion layer, or {', '.join(GAP_LAYERS)} for a gap analysis.", code="no_ranking")
    return ROOFS if layer.slug in ROOF_LAYERS else HOTSPOTS


def check_query(query: RankingQuery, layer: Layer) -> None:
    """Raise BadRequest, saying what to change, for parameters out of range."""
    problems = []
    if not (math.isfinite(query.eps_m) and 0 < query.eps_m <= MAX_EPS_M):
        problems.append(f"eps_m must be more than 0 and at most {MAX_EPS_M:.0f} metres")
    if not 1 <= query.min_pins <= MAX_MIN_PINS:
        problems.append(f"min_pins must be between 1 and {MAX_MIN_PINS}")
    if query.limit is not None and not 1 <= query.limit <= MAX_LIMIT:
        problems.append(f"limit must be between 1 and {MAX_LIMIT}")
    if not (math.isfinite(query.walk_radius_m) and 0 < query.walk_radius_m <= gap_analysis.MAX_RADIUS_M):
        problems.append(f"walk_radius_m must be more than 0 and at most {gap_analysis.MAX_RADIUS_M:.0f} metres")
    unknown = [s for s in query.statuses if s not in STATUSES]
    if unknown:
        problems.append(f"unknown status {', '.join(unknown)}; use {', '.join(STATUSES)}")
    bad_themes = [t for t in query.themes if t not in (layer.themes or [])]
    if bad_themes:
        problems.append(f"layer {layer.slug!r} has no theme {', '.join(bad_themes)}; its themes: "
                        f"{', '.join(layer.themes or []) or 'none'}")
    if query.created_from and query.created_to and query.created_from >= query.created_to:
        problems.append("created_from must be before created_to")
    if problems:
        raise BadRequest("; ".join(problems) + ".", code="bad_ranking_parameters")


def read_support(session: Session, layer: Layer, where: FeatureFilter, *, outlines: bool = False) -> tuple[Pins, Votes]:
    """Read a layer's pins and votes (filtered in SQL) into the ranking's columns."""
    p, v = store.support_columns(session, layer.id, where, outlines=outlines)
    area = roof_areas_m2(p.outline) if outlines else None
    pins = Pins(id=p.id, lon=p.lon, lat=p.lat, author=p.author, created_at=_seconds(p.created_at),
                author_since=_seconds(p.author_since), area_m2=area, outline=p.outline)
    votes = Votes(pin_id=v.pin_id, voter=v.voter, created_at=_seconds(v.created_at),
                  voter_since=_seconds(v.voter_since))
    return pins, votes


def _seconds(epoch: np.ndarray) -> np.ndarray:
    out = np.full(len(epoch), UNKNOWN, np.int64)
    known = ~np.isnan(epoch)
    out[known] = np.floor(epoch[known]).astype(np.int64)
    return out


def rank_layer(session: Session, actor: Actor, platform_slug: str, layer_slug: str,
               query: RankingQuery = RankingQuery(), *, data_dir: Path | None = None) -> LayerRanking:
    """Rank a layer's places (or find its gaps) for an official of its platform."""
    platform, layer = get_layer(session, platform_slug, layer_slug)
    require_official(actor, platform)
    variant = variant_of(layer)
    check_query(query, layer)
    if variant == GAPS:
        return _gaps(session, platform, layer, query, data_dir)
    where = FeatureFilter(statuses=query.statuses, themes=query.themes, created_from=query.created_from,
                          created_to=query.created_to)
    pins, votes = read_support(session, layer, where, outlines=variant == ROOFS)
    if variant == ROOFS:
        places = rank_pins(pins, votes)
    else:
        places = rank_hotspots(pins, votes, eps_m=query.eps_m, min_pins=query.min_pins)
    return LayerRanking(platform, layer, variant, query, places=places[:query.limit] if query.limit else places,
                        n_pins=len(pins), n_votes=len(votes), n_places=len(places),
                        demo_features=catalogue_store.feature_counts(session, [layer.id])[layer.id][1])


def _gaps(session: Session, platform: Platform, layer: Layer, query: RankingQuery,
          data_dir: Path | None) -> LayerRanking:
    if data_dir is None:
        raise BadRequest("The gap analysis needs the Statbel population grid (MAPSVC_DATA_DIR).", code="no_grid")
    path = Path(data_dir) / GRID_FILE
    if not path.is_file():
        raise BadRequest(f"The Statbel population grid is missing: {path}. Run scripts/extract_sample_data.py.",
                         code="no_grid")
    cabinets = store.pin_columns(session, layer.id)
    found = gap_analysis.find_gaps(_grid(path), cabinets.lon, cabinets.lat, boundary=to_shape(platform.boundary),
                                   walk_radius_m=query.walk_radius_m)
    return LayerRanking(platform, layer, GAPS, query, gaps=found[:query.limit] if query.limit else found,
                        n_pins=len(cabinets.id), n_places=len(found))


_GRIDS: dict[Path, gap_analysis.PopulationGrid] = {}


def _grid(path: Path) -> gap_analysis.PopulationGrid:
    """Read the population grid once per process (it never changes while the service runs)."""
    if path not in _GRIDS:
        _GRIDS[path] = gap_analysis.read_population_grid(path)
    return _GRIDS[path]

"""Charging-point rollout: greedy coverage, the exact MCLP, existing points, phases and bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pyproj import Transformer

from mapsvc.suggest.rollout import DISTANCE_NOTE, NONE, Points, default_candidates, plan_rollout, solve_exact

TO_WGS = Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)
ORIGIN = (150_000.0, 170_000.0)                       # Brussels, in Lambert 72


def at(xy, ids=None, weight=None, prefix="p") -> Points:
    """Points at metre offsets from ORIGIN."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    lon, lat = TO_WGS.transform(xy[:, 0] + ORIGIN[0], xy[:, 1] + ORIGIN[1])
    return Points([f"{prefix}{i}" for i in range(len(xy))] if ids is None else ids, lon, lat, weight)


def trap():
    """Greedy takes the middle site M (7) first; the optimum for two sites is L + R (12)."""
    requests = at([(-400, 0), (0, 0), (200, 0), (400, 0), (800, 0)], ids=["a2", "a1", "c", "b1", "b2"],
                  weight=[3, 3, 1, 3, 3])
    candidates = at([(-200, 0), (200, 0), (600, 0)], ids=["L", "M", "R"])
    return requests, candidates


def test_greedy_falls_into_the_trap_and_the_exact_model_does_not():
    requests, candidates = trap()
    plan = plan_rollout(requests, NONE, candidates, radius_m=250, n_sites=2)
    assert [s.id for s in plan.sites] == ["M", "L"]                     # tie L/R: the earlier candidate
    assert [s.new_request_ids for s in plan.sites] == [("a1", "c", "b1"), ("a2",)]
    assert [s.new_demand for s in plan.sites] == [7, 3]
    assert plan.exact.site_ids == ("L", "R") and plan.exact.new_demand == 12 and plan.exact.optimal
    assert plan.exact.greedy_ratio == pytest.approx(10 / 12)
    assert plan.uncovered_ids == ("b2",) and plan.unreachable_ids == ()
    assert solve_exact(requests, NONE, candidates, radius_m=250, n_sites=2)[:2] == (("L", "R"), 12.0)


def brute_force(requests: Points, candidates: Points, radius: float, p: int) -> float:
    to = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    r = np.column_stack(to.transform(requests.lon, requests.lat))
    c = np.column_stack(to.transform(candidates.lon, candidates.lat))
    within = np.hypot(*(c[:, None, :] - r[None, :, :]).transpose(2, 0, 1)) <= radius
    return max(float(requests.weight[within[list(s)].any(axis=0)].sum())
               for s in itertools.combinations(range(len(c)), p))


@pytest.mark.parametrize("seed", range(8))
def test_exact_matches_brute_force_and_greedy_stays_within_its_bound(seed):
    rng = np.random.default_rng(seed)
    requests = at(rng.uniform(0, 1200, (40, 2)), weight=rng.integers(1, 6, 40), prefix="r")
    candidates = at(rng.uniform(0, 1200, (9, 2)), prefix="c")
    p = int(rng.integers(1, 4))
    plan = plan_rollout(requests, NONE, candidates, radius_m=250, n_sites=p, exact=True)
    best = brute_force(requests, candidates, 250, p)
    assert plan.exact.new_demand == pytest.approx(best) and plan.exact.optimal
    greedy = sum(s.new_demand for s in plan.sites)
    assert (1 - 1 / np.e) * best - 1e-9 <= greedy <= best + 1e-9
    assert plan.exact.greedy_ratio == pytest.approx(greedy / best)


def test_existing_points_cover_demand_first():
    requests = at([(0, 0), (100, 0), (1000, 0), (1100, 0), (3000, 0)], weight=[2, 2, 1, 1, 4])
    existing = at([(50, 0)], prefix="e")
    candidates = at([(50, 10), (1050, 0), (5000, 0)], prefix="c")
    plan = plan_rollout(requests, existing, candidates, radius_m=250, n_sites=3)
    assert plan.total_demand == 10 and plan.existing_demand == 4
    assert [s.id for s in plan.sites] == ["c1"]                # c0 adds nothing, c2 reaches nobody
    assert plan.sites[0].covered_demand == 6 and plan.sites[0].covered_share == pytest.approx(0.6)
    assert plan.curve == pytest.approx([0.4, 0.6])
    assert plan.uncovered_ids == ("p4",) and plan.unreachable_ids == ("p4",)
    assert "Only 1 of the 3 sites" in plan.note and plan.note.startswith(DISTANCE_NOTE)


def test_the_radius_is_a_straight_line_in_metres():
    requests = at([(249, 0), (0, 251)])
    plan = plan_rollout(requests, NONE, at([(0, 0)], prefix="c"), radius_m=250, n_sites=1)
    assert plan.sites[0].new_request_ids == ("p0",) and plan.uncovered_ids == ("p1",)
    assert "straight-line" in plan.note.lower() and "not walking routes" in plan.note


def test_phases_and_a_rising_curve():
    rng = np.random.default_rng(5)
    requests = at(rng.uniform(0, 3000, (300, 2)), weight=rng.integers(1, 4, 300))
    candidates = at(rng.uniform(0, 3000, (60, 2)), prefix="c")
    plan = plan_rollout(requests, NONE, candidates, radius_m=250, n_sites=7, per_phase=3)
    assert [s.phase for s in plan.sites] == [1, 1, 1, 2, 2, 2, 3]
    assert [s.order for s in plan.sites] == list(range(1, 8))
    gains = [s.new_demand for s in plan.sites]
    assert gains == sorted(gains, reverse=True) and min(gains) > 0       # greedy gains never rise
    assert np.all(np.diff(plan.curve) > 0)
    newly = [i for s in plan.sites for i in s.new_request_ids]
    assert len(newly) == len(set(newly))                                 # each request covered once
    assert set(newly) | set(plan.uncovered_ids) == set(requests.id.tolist())
    assert plan == plan_rollout(requests, NONE, candidates, radius_m=250, n_sites=7, per_phase=3)


def test_identical_candidates_tie_to_the_earlier_one():
    plan = plan_rollout(at([(0, 0)]), NONE, at([(10, 0), (10, 0)], ids=["second", "first"]), n_sites=1)
    assert plan.sites[0].id == "second"


def test_large_models_skip_the_exact_solution_unless_asked(monkeypatch):
    from mapsvc.suggest import rollout

    requests, candidates = trap()
    monkeypatch.setattr(rollout, "EXACT_MAX_PAIRS", 2)
    assert plan_rollout(requests, NONE, candidates, n_sites=2).exact is None
    assert plan_rollout(requests, NONE, candidates, n_sites=2, exact=True).exact.new_demand == 12
    assert plan_rollout(requests, NONE, candidates, n_sites=2, exact=False).exact is None


@pytest.mark.parametrize("kwargs,match", [
    (dict(radius_m=0), "radius_m"), (dict(radius_m=-5), "radius_m"), (dict(radius_m=5001), "radius_m"),
    (dict(radius_m=float("nan")), "radius_m"), (dict(radius_m=True), "radius_m"),
    (dict(n_sites=4), "only 3 candidate"), (dict(n_sites=0), "n_sites"), (dict(per_phase=0), "per_phase"),
])
def test_bad_parameters_say_what_to_change(kwargs, match):
    requests, candidates = trap()
    with pytest.raises(ValueError, match=match):
        plan_rollout(requests, NONE, candidates, **{"n_sites": 2, **kwargs})


def test_empty_inputs_are_refused():
    requests, candidates = trap()
    with pytest.raises(ValueError, match="no charging requests"):
        plan_rollout(NONE, NONE, candidates, n_sites=1)
    with pytest.raises(ValueError, match="no candidate sites"):
        plan_rollout(requests, NONE, NONE, n_sites=1)


@pytest.mark.parametrize("bad,match", [
    (dict(id=["a", "a"], lon=[4.3, 4.3], lat=[50.8, 50.8]), "unique"),
    (dict(id=["a"], lon=[4.3], lat=[50.8], weight=[-1]), "weights"),
    (dict(id=["a"], lon=[4.3, 4.4], lat=[50.8]), "same length"),
])
def test_bad_points_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        Points(**bad)


def test_default_candidates_are_cluster_centroids_then_requests():
    requests = at([(0, 0), (30, 0), (900, 0)], ids=[11, 12, 13])
    centre = at([(15, 0)])
    candidates = default_candidates(requests, centre.lon, centre.lat)
    assert candidates.id.tolist() == ["cluster-1", "request-11", "request-12", "request-13"]
    plan = plan_rollout(requests, NONE, candidates, n_sites=2)
    assert [s.id for s in plan.sites] == ["cluster-1", "request-13"]
    assert default_candidates(requests).id.tolist() == ["request-11", "request-12", "request-13"]

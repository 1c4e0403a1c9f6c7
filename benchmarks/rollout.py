"""Benchmark the charging-point rollout: lazy greedy against the exact MCLP (HiGHS) on the same inputs.

    .venv/bin/python benchmarks/rollout.py            # 10,000 requests x 2,000 candidates, 250 m, 20 sites
    .venv/bin/python benchmarks/rollout.py --large    # also 50,000 x 5,000

Requests are simulated charging requests in the Brussels-Capital Region (seeded simulator: 100 hotspots,
60 % of requests in them), each weighted by its distinct supporters. Candidates are the request
clusters' centroids, topped up with a seeded sample of request locations. Rows with and without
Brussels' 613 real public charging points (OpenStreetMap) as existing coverage. Prints a table; not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shapely.geometry import shape  # noqa: E402

from mapsvc.layers.osm import is_public  # noqa: E402
from mapsvc.suggest import rollout  # noqa: E402
from mapsvc.suggest.ranking import SupportRule, rank_hotspots, support  # noqa: E402
from mapsvc.suggest.rollout import NONE, Points, plan_rollout  # noqa: E402
from mapsvc.suggest.simulator import simulate_participation  # noqa: E402
from tests.support.participation import columns  # noqa: E402

RADIUS_M, N_SITES = 250.0, 20


def brussels():
    areas = json.loads((REPO / "data" / "boundaries" / "sample_areas.geojson").read_text())["features"]
    return shape(next(f for f in areas if f["properties"]["nis"] == "04000")["geometry"])


def public_charging_points(boundary) -> Points:
    features = json.loads((REPO / "data" / "osm" / "charging_stations_2025-12-26.geojson").read_text())["features"]
    keep = [f for f in features if is_public(f["properties"].get("tags") or {})
            and boundary.contains(shape(f["geometry"]))]
    return Points([f["properties"]["osm_id"] for f in keep], [f["geometry"]["coordinates"][0] for f in keep],
                  [f["geometry"]["coordinates"][1] for f in keep])


def instance(n_requests: int, n_candidates: int, seed: int = 7) -> tuple[Points, Points]:
    """Weighted requests and candidate sites (cluster centroids, then a sample of request locations)."""
    sim = simulate_participation(brussels(), "charging-requests", n_pins=n_requests, seed=seed, n_hotspots=100,
                                 hotspot_share=0.6, hotspot_radius_m=60)
    pins, votes = columns(sim)
    s = support(pins, votes, np.arange(len(pins)), len(pins), SupportRule())
    requests = Points(pins.id, pins.lon, pins.lat, s["score"])
    clusters = [p for p in rank_hotspots(pins, votes) if p.is_cluster][:n_candidates]
    rest = np.random.default_rng(seed).choice(len(pins), n_candidates - len(clusters), replace=False)
    return requests, Points([f"cluster-{p.rank}" for p in clusters] + [f"request-{i}" for i in pins.id[rest]],
                            [p.lon for p in clusters] + pins.lon[rest].tolist(),
                            [p.lat for p in clusters] + pins.lat[rest].tolist())


def run(requests: Points, existing: Points, candidates: Points) -> dict:
    start = time.perf_counter()
    cov = rollout._coverage(requests, existing, candidates, RADIUS_M)
    built = time.perf_counter()
    rollout._greedy(cov, N_SITES)
    greedy = time.perf_counter()
    plan = plan_rollout(requests, existing, candidates, radius_m=RADIUS_M, n_sites=N_SITES, exact=True,
                        exact_time_limit_s=120)
    return {"pairs": cov.matrix.nnz, "matrix_s": built - start, "greedy_s": greedy - built,
            "plan_s": plan.exact.seconds, "ratio": plan.exact.greedy_ratio, "optimal": plan.exact.optimal,
            "share": plan.curve[-1], "base": plan.curve[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 50,000 requests x 5,000 candidates")
    args = parser.parse_args()
    sizes = [(10_000, 2_000)] + ([(50_000, 5_000)] if args.large else [])
    existing = public_charging_points(brussels())
    print(f"Rollout, radius {RADIUS_M:.0f} m (straight line, EPSG:31370), {N_SITES} sites; exact = MCLP on HiGHS")
    print(f"{'requests':>9} {'candidates':>10} {'existing':>8} {'pairs':>9} {'matrix s':>8} {'greedy s':>8} "
          f"{'exact s':>8} {'greedy/opt':>10} {'optimal':>7} {'covered':>15}")
    for n_req, n_cand in sizes:
        requests, candidates = instance(n_req, n_cand)
        for points in (NONE, existing):
            r = run(requests, points, candidates)
            print(f"{n_req:>9,} {n_cand:>10,} {len(points):>8} {r['pairs']:>9,} {r['matrix_s']:>8.3f} "
                  f"{r['greedy_s']:>8.4f} {r['plan_s']:>8.2f} {r['ratio']:>10.4f} {str(r['optimal']):>7} "
                  f"{'{:.1%} -> {:.1%}'.format(r['base'], r['share']):>15}", flush=True)


if __name__ == "__main__":
    main()

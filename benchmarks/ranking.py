"""Benchmark the hotspot ranking end-to-end from PostGIS, and PostGIS's own ST_ClusterDBSCAN beside it.

    .venv/bin/python benchmarks/ranking.py                 # 100k pins (~1M votes) and 1M pins
    .venv/bin/python benchmarks/ranking.py --sizes 100000  # only the 100k run

Pins come from the seeded participation simulator inside the Brussels-Capital Region (100 hotspots of
60 m, 70 % of pins in hotspots), are loaded into a throwaway PostGIS cluster with COPY, and are then
ranked by ``mapsvc.services.ranking.rank_layer`` in a fresh process (so its peak memory is its own):
read pins and votes with SQL, cluster (eps 75 m, 3 pins), score, build every place with its hull.
In the same run ST_ClusterDBSCAN clusters the same pins (ST_Transform to EPSG:31370) with the same
parameters, and scikit-learn's DBSCAN the 100k pins (not 1M: it holds every neighbour pair).
Prints tables; not a test (tests never assert on time).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shapely.geometry import shape  # noqa: E402

EPS_M, MIN_PINS = 75.0, 3
SETTINGS = {100_000: dict(votes_per_resident=12), 1_000_000: dict(votes_per_resident=1)}


def brussels():
    areas = json.loads((REPO / "data" / "boundaries" / "sample_areas.geojson").read_text())["features"]
    return shape(next(f for f in areas if f["properties"]["nis"] == "04000")["geometry"])


def simulate(n: int):
    """Seeded pins and votes as plain columns."""
    from mapsvc.suggest.simulator import simulate_participation
    from tests.support.participation import columns

    sim = simulate_participation(brussels(), "charging-requests", n_pins=n, seed=2026, n_hotspots=100,
                                 hotspot_share=0.7, hotspot_radius_m=60, **SETTINGS.get(n, {}))
    pins, votes = columns(sim)
    return pins, votes, len(sim.residents)


def _iso(seconds: np.ndarray) -> np.ndarray:
    return np.char.add(np.datetime_as_string(seconds.astype("datetime64[s]")), "+00")


def _copy(raw, table: str, columns: str, lines) -> None:
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for line in lines:
            buffer.write(line)
            if buffer.tell() > 8_000_000:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def load(db, slug: str, pins, votes, n_residents: int) -> int:
    """Create a platform with one suggestion layer and COPY users, pins and votes into it."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import MultiPolygon
    from sqlalchemy import text

    from mapsvc.storage.models import Layer, Platform

    with db.transaction() as session:
        platform = Platform(slug=slug, kind="region", name_nl=f"Benchmark {slug}", view_lon=4.35, view_lat=50.84,
                            view_zoom=11, boundary=from_shape(MultiPolygon([brussels()]), srid=4326))
        session.add(platform)
        session.flush()
        layer = Layer(platform_id=platform.id, slug="charging-requests", kind="suggestions", geometry_type="point",
                      title_nl="Laadpaalaanvragen", property_schema={"fields": []}, themes=[])
        session.add(layer)
        session.flush()
        raw = session.connection().connection.driver_connection
        first_user = session.execute(text("SELECT coalesce(max(id), 0) FROM users")).scalar()
        since = _iso(np.full(n_residents, int(pins.author_since.min())))
        _copy(raw, "users", "id, locale, is_active, created_at",
              (f"{first_user + 1 + i}\tnl\tt\t{s}\n" for i, s in enumerate(since.tolist())))
        first_pin = session.execute(text("SELECT coalesce(max(id), 0) FROM features")).scalar()
        created = _iso(pins.created_at).tolist()
        _copy(raw, "features", "id, layer_id, geom, properties, status, source, is_demo, author_id, created_at, updated_at",
              (f"{first_pin + i}\t{layer.id}\tSRID=4326;POINT({x!r} {y!r})\t{{}}\tsubmitted\tbenchmark\tt\t"
               f"{first_user + 1 + a}\t{c}\t{c}\n"
               for i, x, y, a, c in zip(pins.id.tolist(), pins.lon.tolist(), pins.lat.tolist(),
                                        pins.author.tolist(), created)))
        when = _iso(votes.created_at).tolist()
        _copy(raw, "votes", "feature_id, layer_id, user_id, created_at",
              (f"{first_pin + p}\t{layer.id}\t{first_user + 1 + v}\t{w}\n"
               for p, v, w in zip(votes.pin_id.tolist(), votes.voter.tolist(), when)))
        return layer.id


def _peak_mb() -> float:
    """Peak resident memory of this process image (VmHWM; ru_maxrss would include the parent's before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(url: str, slug: str) -> dict:
    """In this (fresh) process: rank the layer twice from the database; time each step and peak memory."""
    from mapsvc.services.catalogue import get_layer
    from mapsvc.services.permissions import OFFICIAL, Actor
    from mapsvc.services.ranking import RankingQuery, rank_layer, read_support
    from mapsvc.storage.features import FeatureFilter
    from mapsvc.storage.session import Database
    from mapsvc.suggest.ranking import rank_hotspots

    db = Database.connect(url)
    with db.sessions() as session:
        platform, layer = get_layer(session, slug, "charging-requests")
        actor = Actor(1, frozenset({(OFFICIAL, platform.id, None)}))
    base = _peak_mb()
    runs = []
    for _ in range(2):
        with db.sessions() as session:
            start = time.perf_counter()
            pins, votes = read_support(session, layer, FeatureFilter())
            read = time.perf_counter()
            places = rank_hotspots(pins, votes, eps_m=EPS_M, min_pins=MIN_PINS)
            runs.append((read - start, time.perf_counter() - read))
    with db.sessions() as session:           # the service end to end, as the API calls it
        start = time.perf_counter()
        result = rank_layer(session, actor, slug, "charging-requests", RankingQuery(eps_m=EPS_M, min_pins=MIN_PINS))
        service = time.perf_counter() - start
    assert [p.pin_ids for p in result.places] == [p.pin_ids for p in places]
    return {"runs": runs, "service_s": service, "peak_mb": _peak_mb(), "base_mb": base,
            "places": result.n_places, "clusters": sum(p.is_cluster for p in places), "pins": result.n_pins,
            "votes": result.n_votes}


def st_cluster_dbscan(db, layer_id: int, timeout_s: int) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """ST_ClusterDBSCAN on the layer's pins in Lambert 72: (seconds, pin ids, cluster ids or -1); None on timeout."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    sql = text("SELECT id, ST_ClusterDBSCAN(ST_Transform(geom, 31370), eps => :eps, minpoints => :m) OVER () "
               "FROM features WHERE layer_id = :layer")
    with db.sessions() as session:
        session.execute(text(f"SET statement_timeout = {int(timeout_s * 1000)}"))
        start = time.perf_counter()
        try:
            rows = session.execute(sql, {"eps": EPS_M, "m": MIN_PINS, "layer": layer_id}).all()
        except OperationalError:                 # statement_timeout: report it as "more than"
            return time.perf_counter() - start, None, None
        seconds = time.perf_counter() - start
    table = np.array([(i, -1 if c is None else c) for i, c in rows], np.int64)
    order = np.argsort(table[:, 0])
    return seconds, table[order, 0], table[order, 1]


def ours(pins) -> tuple[float, np.ndarray]:
    from mapsvc.suggest.clustering import dbscan
    from mapsvc.suggest.ranking import project

    start = time.perf_counter()
    x, y = project(pins.lon, pins.lat)
    labels = dbscan(x, y, eps_m=EPS_M, min_pins=MIN_PINS).labels
    return time.perf_counter() - start, labels


def sklearn_dbscan(pins) -> float:
    from sklearn.cluster import DBSCAN

    from mapsvc.suggest.ranking import project

    start = time.perf_counter()
    x, y = project(pins.lon, pins.lat)
    DBSCAN(eps=EPS_M, min_samples=MIN_PINS).fit(np.column_stack((x, y)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--pg-timeout", type=int, default=600, help="seconds ST_ClusterDBSCAN may take (default 600)")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "PLATFORM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    from mapsvc.storage.session import Database
    from tests.support.postgis import throwaway_postgis

    rows, cluster_rows = [], []
    with throwaway_postgis() as url:
        db = Database.connect(url)
        db.upgrade()
        for n in [int(s) for s in args.sizes.split(",")]:
            t0 = time.perf_counter()
            pins, votes, residents = simulate(n)
            t1 = time.perf_counter()
            layer_id = load(db, f"bench-{n}", pins, votes, residents)
            with db.engine.begin() as conn:          # committed: planner statistics for the new rows
                conn.exec_driver_sql("ANALYZE")
            print(f"# {n:,} pins, {len(votes):,} votes: simulated in {t1 - t0:.1f} s, loaded in "
                  f"{time.perf_counter() - t1:.1f} s", flush=True)
            out = subprocess.run([sys.executable, __file__, "--measure", url, f"bench-{n}"],
                                 cwd=REPO, capture_output=True, text=True, timeout=600, check=True)
            m = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((n, m))
            pg_s, pg_ids, pg_labels = st_cluster_dbscan(db, layer_id, args.pg_timeout)
            our_s, labels = ours(pins)
            sk_s = sklearn_dbscan(pins) if n <= 200_000 else None
            cluster_rows.append((n, our_s, pg_s, sk_s, labels, pg_labels))
        db.dispose()

    print("\nRanking end-to-end from PostGIS (read pins + votes, cluster, score, every place with its hull)")
    print(f"{'pins':>10} {'votes':>10} {'places':>8} {'clusters':>8} {'read s':>11} {'rank s':>11} "
          f"{'total s':>11} {'service s':>9} {'peak MB':>8} {'before':>7}")
    for n, m in rows:
        (r1, k1), (r2, k2) = m["runs"]
        print(f"{m['pins']:>10,} {m['votes']:>10,} {m['places']:>8,} {m['clusters']:>8,} {r1:>5.2f}/{r2:<5.2f} "
              f"{k1:>5.2f}/{k2:<5.2f} {r1 + k1:>5.2f}/{r2 + k2:<5.2f} {m['service_s']:>9.2f} {m['peak_mb']:>8.0f} "
              f"{m['base_mb']:>7.0f}")
    print("(a/b: first/second run; service: mapsvc.services.ranking.rank_layer once; peak: VmHWM of the ranking "
          "process, 'before' = after imports and connecting)")
    print(f"\nClustering the same pins, eps {EPS_M:.0f} m, {MIN_PINS} pins")
    print(f"{'pins':>10} {'mapsvc grid s':>13} {'ST_ClusterDBSCAN s':>18} {'sklearn s':>9} {'clusters ours/PostGIS':>22} "
          f"{'noise ours/PostGIS':>20}")
    for n, our_s, pg_s, sk_s, labels, pg_labels in cluster_rows:
        sk = f"{sk_s:.2f}" if sk_s is not None else "-"
        if pg_labels is None:
            pg, clusters, noise = f"> {pg_s:.0f}", f"{labels.max() + 1:,}/-", f"{(labels < 0).sum():,}/-"
        else:
            pg = f"{pg_s:.2f}"
            clusters = f"{labels.max() + 1:,}/{pg_labels.max() + 1:,}"
            noise = f"{(labels < 0).sum():,}/{(pg_labels < 0).sum():,}"
        print(f"{n:>10,} {our_s:>13.2f} {pg:>18} {sk:>9} {clusters:>22} {noise:>20}")


if __name__ == "__main__":
    main()

"""Benchmark the streamed GeoJSON export of a 100,000-feature layer on SpatiaLite and PostGIS.

    .venv/bin/python benchmarks/export_geojson.py [--features 100000] [--backends spatialite,postgis]

What it does (about 2 minutes on 2 cores; more when they are busy):
1. per backend, a new database (a SpatiaLite file; a throwaway PostGIS cluster from tests.support.postgis),
   the sample platforms, and the seeded participation simulator's pins on Poperinge: `--features` pins
   (with their simulated votes) on unpaving-spots and a tenth of that on charging-requests;
2. a fresh process (so building the database does not weigh on its memory) builds the real app and
   downloads /api/platforms/poperinge/layers/<layer>/export.geojson through the Flask test client with
   buffered=False (the WSGI app iterated chunk by chunk, as a server would), checking the count at the end;
3. it reports time to first byte, total time, size, and two memory figures of that process:
   * RSS growth: the peak resident set during the download minus the resident set before it (after a
     warm-up download, so code and caches are in; the kernel's peak is reset through
     /proc/self/clear_refs, else ru_maxrss would still hold the peak of importing everything).
     What the operating system sees, C libraries included (GEOS, libpq, SQLite).
   * Python peak: tracemalloc's peak during the download, in a second run (tracemalloc slows Python
     allocations, so times come from the first run). Python objects only, exact.
   The baseline builds the whole FeatureCollection in memory first (ORM rows → dicts → one json.dumps),
   as the paged features API does per page, to show what streaming saves.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PLATFORM = "poperinge"
BIG, SMALL = "unpaving-spots", "charging-requests"
SOURCE = "benchmark: simulated demo data"


def build_database(url: str, n_features: int) -> None:
    """Migrate, load the samples, and add simulated pins (and their votes) to two Poperinge layers."""
    from geoalchemy2.shape import to_shape
    from sqlalchemy import insert, select

    from mapsvc import create_app
    from mapsvc.services.catalogue import get_layer
    from mapsvc.services.sample import load_sample
    from mapsvc.storage.features import insert_features
    from mapsvc.storage.models import Feature, Vote
    from mapsvc.suggest.simulator import simulate_participation

    app = create_app({"DATABASE_URL": url})
    database = app.extensions["mapsvc.db"]
    with database.transaction() as session:
        load_sample(session, REPO / "data")
    for slug, n in ((BIG, n_features), (SMALL, n_features // 10)):
        with database.transaction() as session:
            platform, layer = get_layer(session, PLATFORM, slug)
            simulation = simulate_participation(to_shape(platform.boundary), slug, n_pins=n, seed=7,
                                                n_residents=max(50, n // 5), votes_per_resident=3)
            insert_features(session, layer.id, (
                {"geometry": pin.geometry, "properties": pin.properties, "theme": pin.theme, "status": "submitted",
                 "is_demo": True, "source": SOURCE, "source_ref": pin.key,
                 "created_at": pin.created_at, "updated_at": pin.created_at} for pin in simulation.pins))
            ids = dict(session.execute(select(Feature.source_ref, Feature.id).where(
                Feature.layer_id == layer.id, Feature.source == SOURCE)).all())
            votes = [{"feature_id": ids[pin.key], "layer_id": layer.id, "user_id": None}
                     for pin in simulation.pins for _ in pin.supporters]
            if votes:
                session.execute(insert(Vote), votes)
    database.dispose()


RUNS = ((SMALL, "streamed"), (BIG, "streamed"), (BIG, "in memory"))


def measure_all(url: str) -> list[dict]:
    """Download each layer in this process: once timed, once under tracemalloc; return the figures."""
    from mapsvc import create_app

    app = create_app({"DATABASE_URL": url, "AUTO_MIGRATE": False})
    client = app.test_client()
    _streamed(client, f"/api/platforms/{PLATFORM}/layers/charging-points/export.geojson")  # warm-up
    _in_memory(app, "charging-points")
    results = []
    for layer, mode in RUNS:  # the in-memory run last: the heap it grows stays grown
        path = f"/api/platforms/{PLATFORM}/layers/{layer}/export.geojson"
        download = (lambda: _streamed(client, path)) if mode == "streamed" else (lambda: _in_memory(app, layer))
        rss_before = _reset_peak_rss()
        started = time.perf_counter()
        first_byte, size, count = download()
        total = time.perf_counter() - started
        rss_growth = _status_kib("VmHWM") - rss_before
        gc.collect()
        tracemalloc.start()
        download()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results.append({"layer": layer, "mode": mode, "ttfb": first_byte - started, "total": total, "bytes": size,
                        "features": count, "rss_growth_kib": rss_growth, "python_peak": peak})
    app.extensions["mapsvc.db"].dispose()
    return results


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith(key + ":")).split()[1])


def _reset_peak_rss() -> int:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) and return the current RSS in KiB."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status_kib("VmRSS")


def _streamed(client, path: str) -> tuple[float, int, int]:
    response = client.get(path, buffered=False)
    assert response.status_code == 200, response.status_code
    first_byte, size, tail = None, 0, b""
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter()
        size += len(chunk)
        tail = (tail + chunk)[-200:]
    response.close()
    count = json.loads(b"{" + tail[tail.rindex(b'"numberReturned"'):])["numberReturned"]
    return first_byte, size, count


def _in_memory(app, layer_slug: str) -> tuple[float, int, int]:
    """The non-streamed way: every row and every rendered feature in memory, then one document."""
    from geoalchemy2.shape import to_shape

    from mapsvc.export.geojson import feature_collection, feature_to_geojson
    from mapsvc.services.catalogue import get_layer
    from mapsvc.storage.features import feature_query

    with app.extensions["mapsvc.db"].sessions() as session:
        _platform, layer = get_layer(session, PLATFORM, layer_slug)
        rows = session.execute(feature_query(session, layer.id)).all()
        features = []
        for feature, votes in rows:
            rendered = feature_to_geojson(feature, to_shape(feature.geom))
            rendered["properties"]["vote_count"] = votes
            features.append(rendered)
        body = json.dumps(feature_collection(features), ensure_ascii=False, separators=(",", ":")).encode()
    return time.perf_counter(), len(body), len(features)  # the first byte can only leave now


def run_measurements(url: str) -> list[dict]:
    """Measure in a fresh process: the building of the database does not weigh on its memory."""
    out = subprocess.run([sys.executable, __file__, "--measure", url], check=True, capture_output=True, text=True,
                         timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--backends", default="spatialite,postgis")
    args = parser.parse_args()
    rows = []
    with ExitStack() as stack:
        for backend in args.backends.split(","):
            if backend == "postgis":
                from tests.support.postgis import throwaway_postgis

                url = stack.enter_context(throwaway_postgis())
            else:
                url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
            started = time.perf_counter()
            build_database(url, args.features)
            print(f"{backend}: database with {args.features:,} + {args.features // 10:,} pins built in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            rows += [(backend, result) for result in run_measurements(url)]
    print()
    print(f"{'backend':<11}{'export':<11}{'features':>9}{'first byte':>12}{'total':>9}{'MB/s':>7}{'size MB':>9}"
          f"{'RSS growth':>12}{'Python peak':>13}")
    for backend, r in rows:
        print(f"{backend:<11}{r['mode']:<11}{r['features']:>9,}{r['ttfb'] * 1000:>10.0f}ms{r['total']:>8.1f}s"
              f"{r['bytes'] / 1e6 / r['total']:>7.1f}{r['bytes'] / 1e6:>9.1f}"
              f"{r['rss_growth_kib'] / 1024:>10.1f}MB{r['python_peak'] / 1e6:>11.1f}MB")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure_all(sys.argv[2])))
    else:
        main()

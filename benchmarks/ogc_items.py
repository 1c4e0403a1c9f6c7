"""Benchmark the OGC API - Features items endpoint against pygeoapi and tipg on the same PostGIS table.

    .venv/bin/python benchmarks/ogc_items.py [--duration 10] [--rounds 3] [--connections 8] [--workers 4]

What it does, all on this machine (loopback only, bounded in time):
1. starts a throwaway PostGIS cluster with PostgreSQL's default settings (tests.support.postgis);
2. runs mapsvc's migrations and loads one 100,000-pin layer (the seeded participation simulator on the
   Brussels boundary, spread evenly) into the otherwise empty `features` table;
3. serves it with mapsvc (gunicorn, sync workers), pygeoapi (gunicorn, its PostgreSQL provider) and tipg
   (uvicorn), each with the same number of worker processes; the other two read `features` through a
   view without mapsvc's own `bbox` column;
4. checks that all three find the same features in a ~2.2 km box, then loads each with wrk (8 connections)
   for limit=100 and limit=1000, in interleaved rounds so that other load on the machine hits all three
   alike, and prints the medians of requests/second, p50 and p99, the CPU time per request of the server
   and of PostgreSQL (from /proc), and mapsvc's ratio to the faster of the other two.

pygeoapi and tipg live in their own venvs under /tmp/bench-venv (created on first run from PyPI), so
they never touch the project's dependencies. wrk comes from Debian (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BENCH_VENVS = Path(os.environ.get("MAPSVC_BENCH_VENVS", "/tmp/bench-venv"))
OTHERS = {"pygeoapi": ["pygeoapi", "psycopg2-binary", "pygeofilter", "sqlalchemy", "geoalchemy2", "gunicorn"],
          "tipg": ["tipg", "uvicorn"]}
N_PINS = 100_000
OTHERS_TABLE = "features_plain"
# A box of about 2.2 km x 2.2 km in the centre of Brussels (the pins are spread evenly over the region).
CENTRE = (4.3560, 50.8460)
HALF_SIDE_M = 1100


def venv_python(name: str) -> Path:
    """Return the Python of a benchmark venv, creating it (and installing the server) when missing."""
    python = BENCH_VENVS / name / "bin" / "python"
    if not python.exists():
        print(f"creating {python.parent.parent} with {', '.join(OTHERS[name])} from PyPI ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(python.parent.parent)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *OTHERS[name]], check=True)
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def box() -> tuple[float, float, float, float]:
    """Return the benchmark box in lon/lat."""
    from mapsvc.spatial.crs import LAMBERT72, from_wgs84, to_wgs84

    x, y = from_wgs84(LAMBERT72).transform(*CENTRE)
    lons, lats = to_wgs84(LAMBERT72).transform([x - HALF_SIDE_M, x + HALF_SIDE_M], [y - HALF_SIDE_M, y + HALF_SIDE_M])
    return round(lons[0], 6), round(lats[0], 6), round(lons[1], 6), round(lats[1], 6)


def load_layer(url: str) -> None:
    """Create the schema and fill brussels/charging-requests with N_PINS simulated pins, nothing else."""
    from shapely.geometry import shape
    from sqlalchemy import text

    from mapsvc import create_app
    from mapsvc.services.sample import load_sample
    from mapsvc.storage import catalogue
    from mapsvc.storage.features import insert_features
    from mapsvc.suggest.simulator import simulate_participation

    app = create_app({"DATABASE_URL": url})
    database = app.extensions["mapsvc.db"]
    with database.transaction() as session:
        load_sample(session, REPO / "data")
        session.execute(text("DELETE FROM features"))
        platform = catalogue.find_platform(session, "brussels")
        layer = catalogue.find_layer(session, platform.id, "charging-requests")
        areas = json.loads((REPO / "data/boundaries/sample_areas.geojson").read_text())["features"]
        boundary = next(shape(f["geometry"]) for f in areas if f["properties"]["nis"] == "04000")
        pins = simulate_participation(boundary, "charging-requests", n_pins=N_PINS, seed=2026, n_hotspots=0,
                                      hotspot_share=0.0, votes_per_resident=0).pins
        rows = ({"geometry": p.geometry, "properties": p.properties, "theme": p.theme, "status": "submitted",
                 "is_demo": True, "source": "benchmark", "source_ref": p.key, "created_at": p.created_at,
                 "updated_at": p.created_at} for p in pins)
        insert_features(session, layer.id, rows)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # pygeoapi and tipg serve every column of a table; the view shows them `features` without mapsvc's
        # bbox column (migration 0003), so they neither carry it in their output nor read it. Queries on the
        # view are queries on the table, with the same indexes.
        conn.execute(text(f"CREATE VIEW {OTHERS_TABLE} AS SELECT id, layer_id, geom, properties, theme, status, "
                          "official_answer, source, source_ref, is_demo, author_id, created_at, updated_at "
                          "FROM features"))
        conn.execute(text("VACUUM ANALYZE"))
        settings = {name: conn.execute(text(f"SHOW {name}")).scalar()
                    for name in ("jit", "max_parallel_workers_per_gather", "shared_buffers", "work_mem")}
    database.dispose()
    print(f"loaded {N_PINS} pins; PostgreSQL settings (defaults): {settings}", flush=True)


def pygeoapi_config(workdir: Path, url, port: int, python: Path) -> dict[str, str]:
    """Write pygeoapi's configuration and OpenAPI files; return its environment."""
    config = f"""
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  pretty_print: false
  limits: {{default_items: 100, max_items: 1000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: OSM}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                   terms_of_service: none, url: 'http://127.0.0.1'}}
  license: {{name: CC-BY 4.0, url: 'https://creativecommons.org/licenses/by/4.0/'}}
  provider: {{name: bench, url: 'http://127.0.0.1'}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x, postalcode: x,
            country: BE, phone: x, fax: x, email: x@example.org, url: 'http://127.0.0.1', hours: x,
            instructions: x, role: pointOfContact}}
resources:
  pins:
    type: collection
    title: pins
    description: pins
    keywords: [pins]
    extents:
      spatial: {{bbox: [2.5, 49.5, 6.4, 51.5], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: {url.host}, port: {url.port}, dbname: {url.database}, user: {url.username},
               password: '', search_path: [public]}}
        id_field: id
        table: {OTHERS_TABLE}
        geom_field: geom
"""
    (workdir / "pygeoapi.yml").write_text(config)
    env = {**os.environ, "PYGEOAPI_CONFIG": str(workdir / "pygeoapi.yml"),
           "PYGEOAPI_OPENAPI": str(workdir / "pygeoapi-openapi.yml")}
    subprocess.run([str(python.parent / "pygeoapi"), "openapi", "generate", env["PYGEOAPI_CONFIG"],
                    "--output-file", env["PYGEOAPI_OPENAPI"]], env=env, check=True, capture_output=True)
    return env


def wait_for(url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _cpu_seconds(root: int) -> float:
    """Return the CPU time (user + system) used so far by a process and all its descendants."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack += children.get(pid, [])
    return total


def _postmaster_pid(port: int) -> int:
    """Find the PostgreSQL server listening on `port` (its backends are its children)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"/postgres") and str(port).encode() in argv:
            return int(cmdline.parent.name)
    raise RuntimeError(f"no postgres process for port {port}")


def run_wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    """Load one URL with wrk; return requests/second and the p50/p99 latency in milliseconds."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses under load:\n{out}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rate, "p50": ms("50"), "p99": ms("99")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="worker processes per server")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the table shows medians")
    parser.add_argument("--only", choices=("mapsvc", "pygeoapi", "tipg"), action="append")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    servers = args.only or ["mapsvc", "pygeoapi", "tipg"]
    pythons = {name: venv_python(name) for name in servers if name != "mapsvc"}
    from sqlalchemy.engine import make_url

    from tests.support.postgis import throwaway_postgis

    minx, miny, maxx, maxy = box()
    bbox = f"{minx},{miny},{maxx},{maxy}"
    with ExitStack() as stack:
        url = stack.enter_context(throwaway_postgis())
        load_layer(url)
        db = make_url(url)
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ogc-bench-")))
        ports = {name: free_port() for name in servers}
        bin_dir = Path(sys.executable).parent
        commands = {
            "mapsvc": ([str(bin_dir / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{ports.get('mapsvc')}",
                        "mapsvc:create_app()"],
                       {**os.environ, "MAPSVC_DATABASE_URL": url, "MAPSVC_AUTO_MIGRATE": "0"},
                       f"/ogc/collections/brussels.charging-requests/items?bbox={bbox}"),
            "pygeoapi": ([str(pythons.get("pygeoapi", Path("x")).parent / "gunicorn"), "-w", str(args.workers), "-b",
                          f"127.0.0.1:{ports.get('pygeoapi')}", "pygeoapi.flask_app:APP"],
                         None, f"/collections/pins/items?f=json&bbox={bbox}"),
            "tipg": ([str(pythons.get("tipg", Path("x")).parent / "uvicorn"), "tipg.main:app", "--workers",
                      str(args.workers), "--port", str(ports.get("tipg")), "--log-level", "warning"],
                     {**os.environ, "DATABASE_URL": f"postgresql://{db.username}@{db.host}:{db.port}/{db.database}",
                      "TIPG_MAX_FEATURES_PER_QUERY": "1000", "TIPG_DEFAULT_FEATURES_LIMIT": "100"},
                     f"/collections/public.{OTHERS_TABLE}/items?bbox={bbox}"),
        }
        targets: dict[tuple[str, int], str] = {}
        counts: dict[tuple[str, int], tuple] = {}
        processes: dict[str, int] = {}
        for name in servers:
            argv, env, path = commands[name]
            if name == "pygeoapi":
                env = pygeoapi_config(workdir, db, ports[name], pythons[name])
            log = open(workdir / f"{name}.log", "w")
            server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
            stack.callback(lambda s=server: (s.terminate(), s.wait(timeout=20)))
            processes[name] = server.pid
            for limit in (100, 1000):
                targets[(name, limit)] = f"http://127.0.0.1:{ports[name]}{path}&limit={limit}"
                try:
                    body = wait_for(targets[(name, limit)])
                except OSError as exc:
                    print(f"{name} did not answer ({exc}); its log:\n{(workdir / f'{name}.log').read_text()[-3000:]}")
                    raise
                counts[(name, limit)] = (body.get("numberMatched"), len(body["features"]))
                if limit == 100:
                    print(f"{name}: {len(json.dumps(body)) // 1024} KiB for 100 features; properties: "
                          f"{', '.join(body['features'][0]['properties'])}", flush=True)
                run_wrk(targets[(name, limit)], 2, args.connections)  # warm-up: pools, prepared statements
        postmaster = _postmaster_pid(db.port)
        runs: dict[tuple[str, int], list[dict]] = {key: [] for key in targets}
        for round_ in range(args.rounds):  # interleaved, so background load on the machine hits all alike
            order = servers[round_ % len(servers):] + servers[:round_ % len(servers)]
            for name in order:
                for limit in (100, 1000):
                    before = (_cpu_seconds(processes[name]), _cpu_seconds(postmaster))
                    measured = run_wrk(targets[(name, limit)], args.duration, args.connections)
                    requests = measured["rps"] * args.duration
                    measured["server_cpu_ms"] = (_cpu_seconds(processes[name]) - before[0]) / requests * 1000
                    measured["db_cpu_ms"] = (_cpu_seconds(postmaster) - before[1]) / requests * 1000
                    runs[(name, limit)].append(measured)
                    print(f"round {round_ + 1} {name:9} limit {limit:5}: " +
                          ", ".join(f"{k} {v:.1f}" for k, v in measured.items()), flush=True)
        results = {key: {**{k: statistics.median(r[k] for r in found) for k in found[0]}, "counts": counts[key]}
                   for key, found in runs.items()}
        report(results, servers, bbox, args)
    return 0


def report(results: dict, servers: list[str], bbox: str, args) -> None:
    """Print the table and the ratios; fail loudly when the servers disagree on the features."""
    print(f"\nbox {bbox}; wrk with {args.connections} connections, {args.duration} s per run, median of {args.rounds} "
          f"interleaved rounds; {args.workers} worker processes per server; {os.cpu_count()} cores shared by wrk, "
          f"the servers and PostgreSQL (default settings)\n")
    print(f"{'server':10} {'limit':>5} {'matched':>8} {'returned':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'server CPU ms/req':>18} {'PostgreSQL CPU ms/req':>22}")
    for (name, limit), r in sorted(results.items(), key=lambda item: (item[0][1], item[0][0])):
        matched, returned = r["counts"]
        print(f"{name:10} {limit:5} {matched if matched is not None else '-':>8} {returned:8} {r['rps']:8.1f} "
              f"{r['p50']:8.2f} {r['p99']:8.2f} {r['server_cpu_ms']:18.2f} {r['db_cpu_ms']:22.2f}")
    for limit in (100, 1000):
        counts = {results[(n, limit)]["counts"][1] for n in servers}
        if len(counts) > 1:
            print(f"WARNING: the servers returned different numbers of features at limit {limit}: {counts}")
        others = [results[(n, limit)]["rps"] for n in servers if n != "mapsvc"]
        if "mapsvc" in servers and others:
            print(f"limit {limit}: mapsvc / faster other = {results[('mapsvc', limit)]['rps'] / max(others):.2f}x")


if __name__ == "__main__":
    sys.exit(main())

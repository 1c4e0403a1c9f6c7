"""Time until a layer's map shows its pins, in headless Chromium, for 1k, 10k and 100k pins.

    .venv/bin/python benchmarks/map_load.py [--sizes 1000,10000,100000] [--runs 5] [--postgis]

What it does, all on this machine:
1. makes a fresh SpatiaLite database (with --postgis also a throwaway PostGIS cluster, tests.support.postgis)
   and creates one platform per size on Beringen's real boundary, each with an unpaving layer filled by the
   seeded participation simulator (planted hotspots, so some cells are dense);
2. serves it with `mapsvc serve` (a real process, as scripts/run.sh does) and opens /p/<platform>/<layer>
   in Debian's Chromium (Playwright; a new browser context per run, so nothing is cached);
3. per run, reads `window.mapsvcPinsDrawn`: milliseconds from navigation start until the first clusters
   or pins are drawn and two frames painted (set by mapsvc/web/static/mapsvc/pins.js); then zooms in twice
   and pans by one map width (which always needs a new request), timing each until its pins are drawn;
4. prints a table per backend: median and max of each, and the size of the first pins answer.

Tile requests are aborted (the page must work offline, and the network here has no tiles anyway).
"""

from __future__ import annotations

import argparse
import os
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

BIN = Path(sys.executable).parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LAYER = "unpaving-spots"

# Time one map move in the page: start it, wait for the next draw of pins or clusters, return milliseconds.
MOVE = """async (move) => {
  const map = window.mapsvc.map, start = performance.now();
  if (move === "pan") map.panBy([map.getSize().x, 0], {animate: false});
  else map.setZoom(map.getZoom() + 1, {animate: false});
  // Pins already loaded for the new view need no request: then only the client re-clusters.
  while (window.mapsvc.pending() > 0) {
    if (performance.now() - start > 20000) return -1;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - start;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill_database(url: str, sizes: list[int]) -> None:
    """Create the schema, one platform per size on Beringen's boundary, and its simulated pins."""
    from shapely.geometry import shape

    from mapsvc.services.catalogue import get_layer
    from mapsvc.services.sample import BOUNDARIES, SamplePlatform, _read, create_platform
    from mapsvc.storage.features import insert_features
    from mapsvc.storage.session import Database
    from mapsvc.suggest.simulator import simulate_participation

    boundary = next(shape(f["geometry"]) for f in _read(REPO / "data", BOUNDARIES) if f["properties"]["nis"] == "71004")
    database = Database.connect(url)
    database.upgrade()
    try:
        for n in sizes:
            started = time.perf_counter()
            slug = f"bench-{n}"
            spec = SamplePlatform(slug, "71004", "municipality", (f"Bench {n}",) * 3, 12, ("#1b5e20", "#ffffff"), {LAYER: 0})
            with database.transaction() as session:
                create_platform(session, spec, boundary)
            simulation = simulate_participation(boundary, LAYER, n_pins=n, seed=n)
            with database.transaction() as session:
                _platform, layer = get_layer(session, slug, LAYER)
                insert_features(session, layer.id, [
                    {"geometry": pin.geometry, "properties": pin.properties, "theme": pin.theme, "status": "submitted",
                     "is_demo": True, "source": "benchmarks/map_load.py", "source_ref": pin.key}
                    for pin in simulation.pins])
            print(f"  {n:>7,} pins stored in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        database.dispose()


def serve(url: str, stack: ExitStack) -> str:
    """Start `mapsvc serve` on the database and return its base URL."""
    port = free_port()
    env = {**os.environ, "MAPSVC_DATABASE_URL": url, "MAPSVC_SECRET_KEY": "benchmark", "MAPSVC_AUTO_MIGRATE": "0"}
    process = subprocess.Popen([str(BIN / "mapsvc"), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(lambda: (process.terminate(), process.wait(timeout=10)))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/platforms", timeout=5).close()
            return base
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def measure(browser, base: str, n: int, runs: int) -> dict[str, list[float]]:
    """Open the layer page `runs` times in fresh contexts; time first draw, a pan and two zoom steps."""
    found: dict[str, list[float]] = {"load": [], "request": [], "pan": [], "zoom": [], "bytes": []}
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.route("**/*", lambda route: route.abort() if "tile.openstreetmap.org" in route.request.url
                   else route.continue_())
        page.goto(f"{base}/p/bench-{n}/{LAYER}")
        page.wait_for_function("window.mapsvcPinsDrawn !== undefined", timeout=60_000)
        found["load"].append(page.evaluate("window.mapsvcPinsDrawn"))
        first = page.evaluate("(() => { const e = performance.getEntriesByType('resource')"
                              ".find((r) => r.name.includes('/pins?')); return [e.encodedBodySize, e.responseEnd - e.startTime]; })()")
        found["bytes"].append(first[0])
        found["request"].append(first[1])
        found["zoom"].extend([page.evaluate(MOVE, "zoom"), page.evaluate(MOVE, "zoom")])
        found["pan"].append(page.evaluate(MOVE, "pan"))
        context.close()
    return found


def report(backend: str, results: dict[int, dict[str, list[float]]], runs: int) -> None:
    print(f"\n{backend}: milliseconds until the map shows its pins ({runs} runs each, fresh browser context)")
    columns = [("first draw", "load"), ("its /pins request", "request"), ("zoom in", "zoom"), ("pan 1 width", "pan")]
    print(f"{'pins':>8} | " + " | ".join(f"{name + ' median':>24} | {'max':>5}" for name, _ in columns)
          + " | first /pins answer")
    for n, r in results.items():
        cells = " | ".join(f"{statistics.median(r[key]):>24.0f} | {max(r[key]):>5.0f}" for _, key in columns)
        print(f"{n:>8,} | {cells} | {statistics.median(r['bytes']) / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgis", action="store_true", help="also on a throwaway PostGIS cluster")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from playwright.sync_api import sync_playwright

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="mapsvc-bench-") as folder:
        backends = {"SpatiaLite": f"sqlite:///{folder}/bench.db"}
        if args.postgis:
            from tests.support.postgis import throwaway_postgis

            backends["PostGIS"] = stack.enter_context(throwaway_postgis())
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        for backend, url in backends.items():
            print(f"{backend}: filling {', '.join(f'{n:,}' for n in sizes)} pins ...", flush=True)
            fill_database(url, sizes)
            with ExitStack() as server:
                base = serve(url, server)
                results = {n: measure(browser, base, n, args.runs) for n in sizes}
            report(backend, results, args.runs)


if __name__ == "__main__":
    main()

"""Browser fixtures: a real `mapsvc serve` process on a fresh SpatiaLite sample, and Debian's Chromium.

Chromium comes from Debian (scripts/bootstrap.sh --test installs the `chromium` package); Playwright never
downloads a browser here. A missing Chromium fails the run with what to install; it never skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.nominatim_standin import NominatimStandIn

BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("MAPSVC_TEST_CHROMIUM", "/usr/bin/chromium")
# GEOSTACK.md, trap 5: without the background-networking flags Chromium keeps dialling Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "browser-test-password"
TILE_HOST = "tile.openstreetmap.org"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"   # axe-core 4, vendored (see vendor/README.md)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@dataclass
class Server:
    """A running mapsvc with the samples, its database URL and the accounts made for the tests."""

    base: str
    database_url: str
    env: dict
    users: dict[str, str] = field(default_factory=dict)  # name -> e-mail

    def database(self):
        """Open the server's database from the test process (to arrange scenarios)."""
        from mapsvc.storage.session import Database

        return Database.connect(self.database_url)


def _cli(env, *args) -> str:
    result = subprocess.run([str(BIN / "mapsvc"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Serve the samples (plus 1,500 demo pins on Beringen's unpaving layer) from a real process."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'mapsvc.db'}"
    with contextlib.ExitStack() as stack:       # a failing setup still stops what it started
        geocoder = stack.enter_context(NominatimStandIn())  # address search asks this stand-in, never the internet
        env = {**os.environ, "MAPSVC_DATABASE_URL": url, "MAPSVC_SECRET_KEY": "browser-tests-only",
               "MAPSVC_GEOCODER_URL": geocoder.url,
               "MAPSVC_RATE_LIMIT_LOGIN": "1000 per minute", "MAPSVC_RATE_LIMIT_PINS": "1000 per hour",
               "MAPSVC_RATE_LIMIT_VOTES": "1000 per hour"}
        _cli(env, "db", "upgrade")
        _cli(env, "load-sample")
        _cli(env, "simulate", "beringen", "unpaving-spots", "-n", "1500", "--seed", "5")
        users = {"resident": "resident@example.be", "neighbour": "neighbour@example.be",
                 "official": "official@example.be"}
        for name, email in users.items():
            role = ["--role", "official", "--platform", "poperinge"] if name == "official" else []
            _cli(env, "users", "create", email, "--password", PASSWORD, "--display-name", name.capitalize(), *role)
        port = free_port()
        process = subprocess.Popen([str(BIN / "mapsvc"), "serve", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(_stop, process)
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/platforms")
        yield Server(base, url, env, users)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def spots(server):
    """Places on Poperinge's unpaving layer for each scenario (see helpers.Spots), found once per module."""
    from tests.browser.helpers import find_spots

    return find_spots(server, "poperinge", "unpaving-spots")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/bootstrap.sh --test (Debian package "
                    "`chromium`), or set MAPSVC_TEST_CHROMIUM. Never `playwright install` here.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """What a page did: requests, script errors, dialogs (an executed alert() would show up here)."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies) per test, 1280x800."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="nl-BE")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.watch = Watch(page)
    return page


def open_map(page, url: str):
    """Open a map page and wait until its script has drawn the pins of every shown layer."""
    response = page.goto(url)
    page.wait_for_function("window.mapsvcPinsDrawn !== undefined")
    return response


def log_in(page, server: Server, name: str) -> None:
    """Log in through the HTML form, as a person does."""
    page.goto(f"{server.base}/login")
    page.fill("#email", server.users[name])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


class HostSite:
    """A municipal website on another origin: one page that frames a mapsvc embed page.

    With host="localhost" it is on another *site* than mapsvc (127.0.0.1), as www.poperinge.be would be:
    the browser then keeps mapsvc's SameSite=Lax session cookie out of the frame."""

    def __init__(self, embed_url: str, host: str = "127.0.0.1"):
        html = (f'<!doctype html><html><head><meta charset="utf-8"><title>Gemeente</title></head><body>'
                f'<h1>Gemeentelijke website</h1><iframe id="map" src="{embed_url}" title="kaart" width="900" '
                f'height="600" style="border:0"></iframe></body></html>').encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def set_embed_origins(server: Server, slug: str, origins: list[str]) -> None:
    from mapsvc.storage.models import Platform

    database = server.database()
    try:
        with database.transaction() as session:
            session.query(Platform).filter_by(slug=slug).one().embed_origins = origins
    finally:
        database.dispose()


@pytest.fixture
def axe_violations():
    """Run axe-core in a page; return its violations of the given impacts as [{id, impact, help, targets}]."""

    def run(page, impacts=("serious", "critical"), context=None):
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        results = page.evaluate("async (context) => await axe.run(context || document, "
                                "{resultTypes: ['violations']})", context)
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "targets": [node["target"] for node in v["nodes"]]}
                for v in results["violations"] if v["impact"] in impacts]

    return run

"""The commands the README gives, run as a newcomer runs them: real processes, real HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import fresh_database_url

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run(env, *args):
    result = subprocess.run([str(BIN / "mapsvc"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_sample(base: str) -> None:
    platforms = get_json(f"{base}/api/platforms")["platforms"]
    assert {p["slug"] for p in platforms} == {"poperinge", "beringen", "kapelle-op-den-bos", "brussels"}
    for slug in ("poperinge", "beringen", "kapelle-op-den-bos", "brussels"):
        layers = {l["slug"]: l for l in get_json(f"{base}/api/platforms/{slug}/layers")["layers"]}
        assert layers["charging-points"]["feature_count"] > 0
    brussels = {l["slug"]: l for l in get_json(f"{base}/api/platforms/brussels/layers")["layers"]}
    assert brussels["book-cabinets"]["feature_count"] == 48


def test_upgrade_load_and_serve_on_spatialite(tmp_path):
    env = {**os.environ, "MAPSVC_DATABASE_URL": f"sqlite:///{tmp_path / 'mapsvc.db'}"}
    assert "Database at revision" in run(env, "db", "upgrade")
    assert "Loaded 4 sample platform(s)." in run(env, "load-sample")
    assert "already loaded" in run(env, "load-sample")  # the run command may be repeated
    port = free_port()
    server = subprocess.Popen([str(BIN / "mapsvc"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        check_sample(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("backend", ["postgis"])
def test_gunicorn_workers_on_postgis(backend, tmp_path, request):
    url = fresh_database_url(backend, tmp_path, request)
    env = {**os.environ, "MAPSVC_DATABASE_URL": url, "MAPSVC_AUTO_MIGRATE": "0"}
    run(env, "db", "upgrade")
    run(env, "load-sample")
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "mapsvc:create_app()"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        check_sample(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=10)

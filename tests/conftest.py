"""Fixtures: every database test runs on SpatiaLite and on a throwaway PostGIS cluster.

MAPSVC_TEST_BACKENDS (default "spatialite,postgis") may narrow the backends for a quick local run; the
test command and CI use both. MAPSVC_TEST_POSTGIS_URL points the tests at an existing PostGIS server
(a superuser URL) instead of starting a cluster. A missing PostGIS fails the run; it never skips.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

BACKENDS = [b.strip() for b in os.environ.get("MAPSVC_TEST_BACKENDS", "spatialite,postgis").split(",") if b.strip()]
REPO = Path(__file__).resolve().parents[1]
TEMPLATE = "mapsvc_template"
_counter = itertools.count()


def pytest_report_header(config):
    return f"mapsvc database backends under test: {', '.join(BACKENDS)}"


@pytest.fixture(scope="session")
def postgis_server():
    """Yield a superuser URL of a PostGIS server with a template database that has the extension."""
    url = os.environ.get("MAPSVC_TEST_POSTGIS_URL")
    if url:
        _make_template(url)
        yield url
        return
    from tests.support.postgis import throwaway_postgis

    with throwaway_postgis() as url:
        _make_template(url)
        yield url


def _conninfo(url: str, dbname: str) -> str:
    parsed = make_url(url)
    return f"host={parsed.host} port={parsed.port or 5432} user={parsed.username} dbname={dbname}"


def _make_template(url: str) -> None:
    with psycopg.connect(_conninfo(url, make_url(url).database), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    with psycopg.connect(_conninfo(url, TEMPLATE), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")


def fresh_database_url(backend: str, tmp_path: Path, request) -> str:
    """Return the URL of a new, empty database on `backend` (PostGIS: cloned from the template)."""
    if backend == "spatialite":
        return f"sqlite:///{tmp_path / f'mapsvc-{next(_counter)}.db'}"
    server = request.getfixturevalue("postgis_server")
    name = f"mapsvc_t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(_conninfo(server, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return make_url(server).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The database backend under test."""
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request) -> str:
    """A new, empty database on the backend under test."""
    return fresh_database_url(backend, tmp_path, request)


@pytest.fixture
def make_app(database_url):
    """Build apps on the test's database with extra settings (all share the database)."""
    from mapsvc import create_app

    apps = []

    def make(**settings):
        app = create_app({"DATABASE_URL": database_url, "DEVELOPMENT": True, **settings})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["mapsvc.db"].dispose()


@pytest.fixture
def app(make_app):
    """An app on a new, migrated, empty database."""
    return make_app()


@pytest.fixture
def db(app):
    """The app's database handle."""
    return app.extensions["mapsvc.db"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session", params=BACKENDS)
def sample_app(request, tmp_path_factory):
    """An app with the sample platforms loaded, shared by read-only tests (one per backend)."""
    from mapsvc import create_app
    from mapsvc.services.sample import load_sample

    url = fresh_database_url(request.param, tmp_path_factory.mktemp("sample"), request)
    app = create_app({"DATABASE_URL": url})
    database = app.extensions["mapsvc.db"]
    with database.transaction() as session:
        load_sample(session, REPO / "data")
    app.config["TEST_BACKEND"] = request.param
    yield app
    database.dispose()


@pytest.fixture
def sample_client(sample_app):
    return sample_app.test_client()

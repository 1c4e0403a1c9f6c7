"""Build the SQLAlchemy engine: the one place that knows SpatiaLite from PostGIS."""

from __future__ import annotations

# Import the geo libraries before mod_spatialite is ever loaded: SQLite loads extensions with
# RTLD_GLOBAL, so Debian's older GEOS/PROJ would otherwise shadow the wheels' copies
# (GEOSTACK.md, trap 2: geometries decode as (x, y, nan)).
import pyogrio  # noqa: F401
import pyproj  # noqa: F401
import shapely  # noqa: F401

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from mapsvc.errors import ConfigurationError

SPATIALITE = "sqlite"
POSTGIS = "postgresql"


def _sqlite_dbapi():
    """Return an sqlite3 module that can load extensions (pyenv's stdlib one cannot)."""
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        from pysqlite3 import dbapi2
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ConfigurationError(
            "This Python's sqlite3 cannot load extensions and pysqlite3-binary is not installed; "
            "run scripts/bootstrap.sh or `pip install pysqlite3-binary`."
        ) from exc
    return dbapi2


def _check_spatialite(dbapi) -> None:
    """Fail early, with the package to install, when mod_spatialite cannot be loaded."""
    conn = dbapi.connect(":memory:")
    try:
        conn.enable_load_extension(True)
        conn.load_extension(os.environ["SPATIALITE_LIBRARY_PATH"])
    except Exception as exc:
        raise ConfigurationError(
            "SpatiaLite (mod_spatialite) could not be loaded: install Debian's "
            "libsqlite3-mod-spatialite (scripts/bootstrap.sh does it). Cause: " + str(exc)
        ) from exc
    finally:
        conn.close()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    """Enforce foreign keys, let readers and a writer work side by side, and wait for locks."""
    # SQLAlchemy's own BEGIN (see _begin below) replaces pysqlite's implicit one.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA busy_timeout = 10000")
    cur.close()


def create_db_engine(url: str) -> Engine:
    """Create an engine for a SpatiaLite file or a PostGIS database, chosen by the URL alone."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(f"MAPSVC_DATABASE_URL is not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == SPATIALITE:
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        dbapi = _sqlite_dbapi()
        os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
        _check_spatialite(dbapi)
        # GeoAlchemy2's plugin loads mod_spatialite on every connection; only the WGS84 reference
        # systems, since loading all EPSG codes costs ~9 s on a new file (GEOSTACK.md, trap 3).
        parsed = parsed.update_query_dict({"geoalchemy2_connect_sqlite_init_mode": "WGS84"})
        engine = create_engine(parsed, module=dbapi, plugins=["geoalchemy2"])
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin)
        return engine
    if backend == POSTGIS:
        return create_engine(url, plugins=["geoalchemy2"], pool_pre_ping=True)
    raise ConfigurationError(
        f"Unsupported database {backend!r} in MAPSVC_DATABASE_URL: use sqlite:///path.db (SpatiaLite) "
        "or postgresql+psycopg://user@host/db (PostGIS)."
    )


WRITE = "mapsvc_write"


def _begin(conn) -> None:
    # A write transaction takes the write lock at BEGIN, so concurrent writers queue (busy_timeout)
    # instead of failing half-way through a multi-row write; reads begin deferred and run side by side.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def backend_of(engine_or_conn) -> str:
    """Name the spatial backend of an engine, connection or session bind."""
    return engine_or_conn.dialect.name

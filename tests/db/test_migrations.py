"""The Alembic migrations build the same schema, with spatial indexes, on SpatiaLite and PostGIS."""

from sqlalchemy import inspect, text

from mapsvc.storage import migrate
from mapsvc.storage.session import Database


def spatial_indexes(engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT f_table_name || '.' || f_geometry_column FROM geometry_columns "
                                     "WHERE spatial_index_enabled = 1"))
        else:
            rows = conn.execute(text("SELECT tablename || '.' || replace(indexname, 'idx_' || tablename || '_', '') "
                                     "FROM pg_indexes WHERE indexdef LIKE '%USING gist%'"))
        return {r[0] for r in rows}


def test_upgrade_down_and_up_again(database_url):
    database = Database.connect(database_url)
    assert migrate.current_revision(database.engine) is None
    database.upgrade()
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    assert {"platforms", "layers", "features"} <= set(inspect(database.engine).get_table_names())
    # PostGIS also has the covering bounding-box index of map-view queries (migration 0003).
    expected = {"platforms.boundary", "features.geom"} | (
        {"features.bbox"} if database.engine.dialect.name == "postgresql" else set())
    assert spatial_indexes(database.engine) == expected
    migrate.downgrade(database.engine, "base")
    assert not {"platforms", "layers", "features"} & set(inspect(database.engine).get_table_names())
    assert spatial_indexes(database.engine) == set()
    database.upgrade()
    assert spatial_indexes(database.engine) == expected
    database.dispose()


def test_geometries_are_stored_in_wgs84(db):
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            srids = conn.execute(text("SELECT srid FROM geometry_columns")).scalars().all()
        else:
            srids = conn.execute(text("SELECT srid FROM geometry_columns WHERE f_table_schema = 'public'")).scalars().all()
    assert sorted(srids) == [4326, 4326]

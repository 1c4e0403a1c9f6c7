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


def test_0004_goes_down_to_0003_and_up_again_keeping_features(database_url):
    """Moderation, accounts and mail tables come and go without copying the geometry tables."""
    database = Database.connect(database_url)
    migrate.upgrade(database.engine, "0003")
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO platforms (slug, kind, name_nl, boundary, view_lon, view_lat, view_zoom, "
                          "colour_primary, colour_secondary, languages, embed_origins, created_at) VALUES "
                          "('p', 'municipality', 'P', ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))', 4326), "
                          "0.5, 0.5, 12, '#000000', '#ffffff', '[]', '[]', CURRENT_TIMESTAMP)"))
    database.upgrade()
    new_tables = {"flags", "follows", "outgoing_mail", "news_items", "timeline_phases", "oidc_identities"}
    assert new_tables <= set(inspect(database.engine).get_table_names())
    columns = {c["name"] for c in inspect(database.engine).get_columns("features")}
    assert {"visibility", "moderation_reason", "moderated_at", "moderated_by"} <= columns
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT deleted_account_pins, deleted_account_votes FROM platforms")).one() == (
            "anonymise", "keep")
    migrate.downgrade(database.engine, "0003")
    assert not new_tables & set(inspect(database.engine).get_table_names())
    assert "visibility" not in {c["name"] for c in inspect(database.engine).get_columns("features")}
    assert "features.geom" in spatial_indexes(database.engine)
    database.upgrade()
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM platforms")).scalar() == 1
    database.dispose()

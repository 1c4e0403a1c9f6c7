"""Layer downloads over HTTP on both backends: every format re-read by GDAL, filters, errors, permissions,
file names, the session kept open while streaming, and no personal data in any file."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, box, shape
from sqlalchemy import select

from mapsvc.layers.catalogue import LAYER_SPECS
from mapsvc.services.permissions import OFFICIAL, Actor
from mapsvc.storage.models import SRID, Feature, Layer, Platform, User, Vote

BASE = "/api/platforms"
CONTENT_TYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
                 "csv": "text/csv; charset=utf-8", "shp.zip": "application/zip"}
CSV_OPTIONS = {"X_POSSIBLE_NAMES": "lon,x", "Y_POSSIBLE_NAMES": "lat,y", "GEOM_POSSIBLE_NAMES": "wkt",
               "KEEP_GEOM_COLUMNS": "NO"}


def read_export(tmp_path, fmt: str, data: bytes) -> gpd.GeoDataFrame:
    """Read a downloaded file with GDAL (pyogrio), whole; Shapefile parts joined, full column names restored."""
    path = tmp_path / f"download.{fmt}"
    path.write_bytes(data)
    if fmt == "geojson":
        frame = pyogrio.read_dataframe(path, fid_as_index=True)
        frame.insert(0, "id", frame.index)
        return frame.reset_index(drop=True)
    if fmt == "csv":
        frame = pyogrio.read_dataframe(path, **CSV_OPTIONS)  # GDAL reads CSV cells as text
        frame["id"] = frame["id"].astype(int)
        return frame
    if fmt == "gpkg":
        return pyogrio.read_dataframe(path)
    with zipfile.ZipFile(path) as archive:
        shapefiles = [n for n in archive.namelist() if n.endswith(".shp")]
        full_names = dict(list(csv.reader(io.StringIO(archive.read("fields.csv").decode())))[1:])
    frames = [pyogrio.read_dataframe(f"zip://{path}!{name}") for name in shapefiles]
    frame = pd.concat(frames, ignore_index=True).rename(columns=full_names)
    return gpd.GeoDataFrame(frame.sort_values("id").reset_index(drop=True), geometry="geometry")


def feature_count(client, platform: str, layer: str) -> int:
    return client.get(f"{BASE}/{platform}/layers/{layer}").get_json()["feature_count"]


def download(client, platform: str, layer: str, fmt: str, query: str = ""):
    response = client.get(f"{BASE}/{platform}/layers/{layer}/export.{fmt}{'?' + query if query else ''}")
    return response


# ---- every format, re-read ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
def test_download_has_file_name_content_type_and_every_feature(sample_client, tmp_path, fmt):
    response = download(sample_client, "poperinge", "charging-requests", fmt)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPES[fmt]
    assert re.fullmatch(rf'attachment; filename="poperinge_charging-requests_\d{{4}}-\d{{2}}-\d{{2}}\.{re.escape(fmt)}"',
                        response.headers["Content-Disposition"])
    frame = read_export(tmp_path, fmt, response.get_data())
    assert len(frame) == feature_count(sample_client, "poperinge", "charging-requests") == 150
    assert frame["demo"].astype(str).str.lower().isin(["true", "1", "1.0"]).all()
    assert frame["title"].str.startswith("Demo – ").all()


@pytest.mark.parametrize("platform, layer", [("brussels", "charging-points"), ("poperinge", "solar-roofs"),
                                             ("brussels", "initiatives")])
@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
def test_every_format_holds_what_the_api_serves(sample_client, tmp_path, fmt, platform, layer):
    api = sample_client.get(f"{BASE}/{platform}/layers/{layer}/features?limit=1000").get_json()
    served = {f["id"]: f for f in api["features"]}
    frame = read_export(tmp_path, fmt, download(sample_client, platform, layer, fmt).get_data())
    assert len(frame) == feature_count(sample_client, platform, layer) == len(served)
    for _, row in frame.iterrows():
        feature = served[int(row["id"])]
        assert row.geometry.hausdorff_distance(shape(feature["geometry"])) < 1e-6
        for name in ("status", "source", "source_ref"):
            assert (row[name] or None) == feature["properties"][name]
        own = (name for name in ("name", "title", "operator") if name in feature["properties"])
        for name in own:
            value = feature["properties"][name]
            assert (row[name] if isinstance(row[name], str) and row[name] else None) == (
                value if fmt != "shp.zip" else value and value.encode()[:254].decode("utf-8", "ignore"))


def test_lambert72_geopackage_matches_pyproj(sample_client, tmp_path):
    geojson = json.loads(download(sample_client, "brussels", "book-cabinets", "geojson").get_data())
    response = download(sample_client, "brussels", "book-cabinets", "gpkg", "crs=EPSG:31370")
    assert response.headers["Content-Disposition"].endswith('_epsg31370.gpkg"')
    path = tmp_path / "l72.gpkg"
    path.write_bytes(response.get_data())
    assert pyogrio.read_info(path)["crs"] == "EPSG:31370"
    frame = pyogrio.read_dataframe(path).set_index("id")
    to_l72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    assert len(frame) == len(geojson["features"]) == 48
    for feature in geojson["features"]:
        x, y = to_l72.transform(*feature["geometry"]["coordinates"])
        point = frame.loc[feature["id"]].geometry
        assert math.hypot(point.x - x, point.y - y) < 0.01


def test_geojson_download_is_rfc7946(sample_client):
    from tests.unit.test_export_formats import rfc7946_problems

    document = json.loads(download(sample_client, "poperinge", "solar-roofs", "geojson").get_data())
    assert rfc7946_problems(document) == [] and len(document["features"]) == 80
    assert document["numberReturned"] == 80


def test_empty_layer_in_every_format(sample_client, tmp_path):
    assert feature_count(sample_client, "poperinge", "book-cabinets") == 0
    for fmt in CONTENT_TYPES:
        response = download(sample_client, "poperinge", "book-cabinets", fmt)
        assert response.status_code == 200
        assert len(read_export(tmp_path, fmt, response.get_data())) == 0


# ---- filters ------------------------------------------------------------------------------------------------

def ids_of(client, platform, layer, query=""):
    body = json.loads(download(client, platform, layer, "geojson", query).get_data())
    return {f["id"]: f for f in body["features"]}


def test_bbox_filter_matches_the_api(sample_client):
    frame = (4.34, 50.83, 4.37, 50.85)
    url = f"{BASE}/brussels/layers/charging-points/features?limit=1000&bbox={','.join(map(str, frame))}"
    expected = {f["id"] for f in sample_client.get(url).get_json()["features"]}
    assert 10 < len(expected) < 613
    assert set(ids_of(sample_client, "brussels", "charging-points", f"bbox={','.join(map(str, frame))}")) == expected


def test_theme_and_status_filters(sample_client):
    every = ids_of(sample_client, "poperinge", "unpaving-spots")
    greening = ids_of(sample_client, "poperinge", "unpaving-spots", "theme=vergroenen")
    assert 0 < len(greening) < len(every)
    assert set(greening) == {i for i, f in every.items() if f["properties"]["theme"] == "vergroenen"}
    assert len(ids_of(sample_client, "poperinge", "unpaving-spots", "theme=vergroenen,ontharden")) == len(every)
    assert len(ids_of(sample_client, "poperinge", "unpaving-spots", "status=submitted")) == len(every)
    assert ids_of(sample_client, "poperinge", "unpaving-spots", "status=selected,realised") == {}


def test_date_window_takes_whole_belgian_days(sample_client):
    every = ids_of(sample_client, "poperinge", "charging-requests")
    created = {i: datetime.fromisoformat(f["properties"]["created_at"]) for i, f in every.items()}
    brussels = ZoneInfo("Europe/Brussels")
    days = sorted({moment.astimezone(brussels).date() for moment in created.values()})
    first, last = days[len(days) // 3], days[2 * len(days) // 3]
    expected = {i for i, moment in created.items() if first <= moment.astimezone(brussels).date() <= last}
    got = ids_of(sample_client, "poperinge", "charging-requests", f"from={first}&to={last}")
    assert set(got) == expected and 0 < len(expected) < len(every)
    moment = sorted(created.values())[len(created) // 2]
    later = {i for i, m in created.items() if m >= moment}
    stamp = moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    assert set(ids_of(sample_client, "poperinge", "charging-requests", f"from={stamp}")) == later


# ---- errors and permissions ---------------------------------------------------------------------------------

EXPORT = f"{BASE}/poperinge/layers/unpaving-spots/export"


@pytest.mark.parametrize("url, status, code, fragment", [
    (f"{EXPORT}.gpkg?crs=EPSG:900913", 400, "invalid_crs", "EPSG:31370 (Belgian Lambert 72)"),
    (f"{EXPORT}.gpkg?crs=lambert", 400, "invalid_crs", "EPSG:3812"),
    (f"{EXPORT}.geojson?crs=EPSG:31370", 400, "invalid_crs", "RFC 7946"),
    (f"{EXPORT}.csv?from=2026-02-30", 400, "invalid_date", "2026-09-01"),
    (f"{EXPORT}.csv?to=yesterday", 400, "invalid_date", "to must be a date"),
    (f"{EXPORT}.csv?from=2026-10-01&to=2026-09-01", 400, "invalid_date", "must come before"),
    (f"{EXPORT}.csv?status=approved", 400, "invalid_status", "submitted, under_review"),
    (f"{EXPORT}.csv?theme=energie", 400, "invalid_theme", "ontharden, vergroenen"),
    (f"{EXPORT}.csv?bbox=1,2,3", 400, "invalid_bbox", "four numbers"),
    (f"{EXPORT}.csv?format=csv", 400, "unknown_parameter", "crs, bbox, status, theme, from, to"),
    (f"{EXPORT}.csv?include_moderation=maybe", 400, "invalid_parameter", "true or false"),
    (f"{EXPORT}.xlsx", 404, "unknown_format", "geojson, gpkg, csv, shp.zip"),
    (f"{BASE}/atlantis/layers/unpaving-spots/export.csv", 404, "unknown_platform", "known platforms"),
    (f"{BASE}/poperinge/layers/dragons/export.csv", 404, "unknown_layer", "its layers"),
    (f"{EXPORT}.csv?include_moderation=true", 403, "moderation_detail_forbidden", "officials of 'poperinge'"),
])
def test_bad_requests_get_a_clear_4xx(sample_client, url, status, code, fragment):
    response = sample_client.get(url)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and fragment in error["message"]


def test_officials_may_ask_for_moderation_detail(sample_app, monkeypatch):
    from mapsvc.web import export as export_views

    with sample_app.extensions["mapsvc.db"].sessions() as session:
        platform_id = session.scalar(select(Platform.id).where(Platform.slug == "poperinge"))
    monkeypatch.setattr(export_views, "_actor", lambda: Actor(7, frozenset({(OFFICIAL, platform_id, None)})))
    response = sample_app.test_client().get(f"{EXPORT}.csv?include_moderation=true")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    monkeypatch.setattr(export_views, "_actor", lambda: Actor(7, frozenset({(OFFICIAL, platform_id + 1, None)})))
    assert sample_app.test_client().get(f"{EXPORT}.csv?include_moderation=true").status_code == 403


# ---- a town with real accounts: personal data and non-public layers -----------------------------------------

EMAIL, VOTER_EMAIL = "an.peeters@example.be", "voter.janssens@example.be"
AUTHOR_ID, SHY_AUTHOR_ID, VOTER_ID = 918273, 827364, 736455
TOWN = box(3.0, 50.0, 3.1, 50.1)


@pytest.fixture
def town(db):
    """A platform with a public suggestion layer (authors, votes) and a non-public one."""
    spec = LAYER_SPECS["charging-requests"]
    with db.transaction() as session:
        session.add_all([
            User(id=AUTHOR_ID, email=EMAIL, display_name="Zoë Vandamme"),
            User(id=SHY_AUTHOR_ID, email="shy@example.be", display_name="   "),
            User(id=VOTER_ID, email=VOTER_EMAIL, display_name="Voter Visible"),
        ])
        platform = Platform(slug="proefdorp", kind="municipality", name_nl="Proefdorp",
                            boundary=from_shape(MultiPolygon([TOWN]), srid=SRID), view_lon=3.05, view_lat=50.05,
                            view_zoom=13)
        for slug, public in (("charging-requests", True), ("internal-notes", False)):
            platform.layers.append(Layer(slug=slug, kind=spec.kind, geometry_type=spec.geometry_type,
                                         title_nl=slug, property_schema=spec.property_schema, themes=[],
                                         is_public=public, voting_enabled=True))
        session.add(platform)
        session.flush()
        public_layer, hidden_layer = platform.layers
        features = [
            Feature(layer_id=public_layer.id, geom=from_shape(Point(3.01, 50.01), srid=SRID), source="site",
                    properties={"title": "Laadpaal aan de kerk, s'il vous plaît", "vehicles": 1},
                    status="submitted", author_id=AUTHOR_ID),
            Feature(layer_id=public_layer.id, geom=from_shape(Point(3.02, 50.02), srid=SRID), source="site",
                    properties={"title": "Laadpaal bij het station"}, status="submitted", author_id=SHY_AUTHOR_ID),
            Feature(layer_id=public_layer.id, geom=from_shape(Point(3.03, 50.03), srid=SRID), source="site",
                    properties={"title": "Anoniem voorstel"}, status="selected", author_id=None,
                    official_answer="Wordt onderzocht."),
            Feature(layer_id=hidden_layer.id, geom=from_shape(Point(3.04, 50.04), srid=SRID), source="site",
                    properties={"title": "Intern"}, status="submitted"),
        ]
        session.add_all(features)
        session.flush()
        session.add_all([Vote(feature_id=features[0].id, layer_id=public_layer.id, user_id=VOTER_ID),
                         Vote(feature_id=features[0].id, layer_id=public_layer.id, user_id=SHY_AUTHOR_ID),
                         Vote(feature_id=features[1].id, layer_id=public_layer.id, user_id=VOTER_ID)])
        return {"platform_id": platform.id, "ids": [f.id for f in features]}


def _file_texts(fmt: str, data: bytes) -> list[bytes]:
    if fmt != "shp.zip":
        return [data]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(name) for name in archive.namelist()]


@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
def test_no_personal_data_in_any_export(client, town, tmp_path, fmt):
    response = download(client, "proefdorp", "charging-requests", fmt)
    assert response.status_code == 200
    data = response.get_data()
    for blob in _file_texts(fmt, data):
        for secret in (EMAIL, VOTER_EMAIL, "shy@example.be", "example.be", "Voter Visible",
                       str(AUTHOR_ID), str(SHY_AUTHOR_ID), str(VOTER_ID)):
            assert secret.encode() not in blob, secret
        for column in (b"email", b"author_id", b"user_id", b"password", b"voter"):
            assert column not in blob.lower(), column
    frame = read_export(tmp_path, fmt, data).set_index("id")
    first, second, third = town["ids"][:3]
    assert frame.loc[first, "author_display_name"] == "Zoë Vandamme"  # chosen: shown
    assert not isinstance(frame.loc[second, "author_display_name"], str) or \
        frame.loc[second, "author_display_name"] == ""  # blank name: anonymous
    assert not isinstance(frame.loc[third, "author_display_name"], str) or frame.loc[third, "author_display_name"] == ""
    assert [int(frame.loc[i, "vote_count"]) for i in (first, second, third)] == [2, 1, 0]
    assert any("Zoë Vandamme".encode() in blob for blob in _file_texts(fmt, data))


def test_non_public_layer_only_for_officials(client, town, monkeypatch, tmp_path):
    from mapsvc.web import export as export_views

    response = download(client, "proefdorp", "internal-notes", "csv")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "layer_not_public"
    monkeypatch.setattr(export_views, "_actor", lambda: Actor(5, frozenset({(OFFICIAL, town["platform_id"], None)})))
    response = download(client, "proefdorp", "internal-notes", "csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    assert len(read_export(tmp_path, "csv", response.get_data())) == 1


def test_streaming_keeps_its_own_session_until_the_download_ends(app, town, db):
    pool = db.engine.pool
    response = app.test_client().get(f"{BASE}/proefdorp/layers/charging-requests/export.geojson", buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    head = next(chunks)  # written before any row is read
    assert head.startswith(b'{"type":"FeatureCollection"')
    next(chunks)  # a batch of features: the export's own session is reading now
    assert pool.checkedout() == 1  # the request's session is closed; the export's is open
    response.close()  # the client goes away
    assert pool.checkedout() == 0
    full = app.test_client().get(f"{BASE}/proefdorp/layers/charging-requests/export.geojson").get_data()
    assert json.loads(full)["numberReturned"] == 3 and pool.checkedout() == 0


def test_timestamps_are_utc_to_the_millisecond(client, town):
    body = json.loads(download(client, "proefdorp", "charging-requests", "geojson").get_data())
    created = body["features"][0]["properties"]["created_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created)
    assert abs(datetime.fromisoformat(created) - datetime.now(timezone.utc)) < timedelta(hours=1)


def test_an_unescaped_plus_in_an_offset_still_reads(sample_client):
    # "+" in a query string means a space; people paste ISO offsets into URLs anyway.
    raw = ids_of(sample_client, "poperinge", "charging-requests", "from=2026-10-01T08:00:00+02:00")
    escaped = ids_of(sample_client, "poperinge", "charging-requests", "from=2026-10-01T06:00:00Z")
    assert raw.keys() == escaped.keys() and 0 < len(raw) < 150


def test_roles_come_from_the_logged_in_account(client, db, people):
    """The real wiring, no stand-in actor: an API token of testdorp's official opens a non-public layer."""
    from tests.web.conftest import bearer, set_layer

    set_layer(db, "charging-points", is_public=False)
    url = f"{BASE}/testdorp/layers/charging-points/export.csv"
    assert client.get(url).status_code == 403
    assert client.get(url, headers=bearer(people["resident"])).status_code == 403
    assert client.get(url, headers=bearer(people["moderator"])).status_code == 403
    for role in ("official", "admin"):
        response = client.get(url, headers=bearer(people[role]))
        assert response.status_code == 200, role
        assert response.get_data().decode("utf-8-sig").startswith("id,lon,lat,")
    assert client.get(f"{BASE}/testdorp/layers/unpaving-spots/export.csv?include_moderation=true",
                      headers=bearer(people["official"])).status_code == 200

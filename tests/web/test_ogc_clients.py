"""The clients planners use read /ogc from a real server: GDAL's ogrinfo, pyogrio/geopandas and OWSLib.

The server runs as gunicorn on each backend with a page maximum of 100, so every layer larger than that
is read over several pages by following next links. Counts and ids are compared with the database.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas
import pytest
from geoalchemy2.shape import to_shape
from owslib.ogcapi.features import Features
from pyproj import Transformer
from shapely.geometry import box
from sqlalchemy import select

from mapsvc.storage.models import Feature, Layer, Platform
from mapsvc.storage.session import Database
from tests.conftest import BACKENDS, fresh_database_url
from tests.web.test_serve import free_port, get_json, run

BIN = Path(sys.executable).parent
L72 = "http://www.opengis.net/def/crs/EPSG/0/31370"
FRAME = (4.33, 50.82, 4.39, 50.86)  # central Brussels


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory):
    """Yield (OGC base URL, {collection id: {feature id: lon/lat point}}) of a gunicorn serving the samples."""
    url = fresh_database_url(request.param, tmp_path_factory.mktemp("ogc"), request)
    env = {**os.environ, "MAPSVC_DATABASE_URL": url, "MAPSVC_AUTO_MIGRATE": "0", "MAPSVC_MAX_PAGE_SIZE": "100",
           "MAPSVC_DEFAULT_PAGE_SIZE": "50"}
    run(env, "db", "upgrade")
    run(env, "load-sample")
    database = Database.connect(url)
    with database.sessions() as session:
        rows = session.execute(select(Platform.slug, Layer.slug, Feature.id, Feature.geom)
                               .join(Layer, Layer.platform_id == Platform.id)
                               .outerjoin(Feature, Feature.layer_id == Layer.id).where(Layer.is_public.is_(True)))
        layers: dict[str, dict] = {}
        for platform, layer, fid, geom in rows:
            layers.setdefault(f"{platform}.{layer}", {})
            if fid is not None:
                layers[f"{platform}.{layer}"][fid] = to_shape(geom)
    database.dispose()
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "mapsvc:create_app()"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/ogc"
    try:
        get_json(base)
        yield base, layers
    finally:
        server.terminate()
        server.wait(timeout=10)


def ogrinfo(*args: str) -> str:
    result = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ogrinfo_lists_every_collection_with_the_database_count(served):
    base, layers = served
    out = ogrinfo("-so", "-al", f"OAPIF:{base}")
    counts = dict(zip(re.findall(r"^Layer name: (\S+)$", out, re.M),
                      map(int, re.findall(r"^Feature Count: (\d+)$", out, re.M))))
    assert counts == {cid: len(features) for cid, features in layers.items()}
    assert len(counts) == 20


def test_ogrinfo_reads_a_layer_of_many_pages_without_gaps_or_repeats(served):
    base, layers = served
    out = ogrinfo("-al", "-q", f"OAPIF:{base}", "brussels.charging-points")  # GDAL 3.6 pages by 10: 62 pages
    fids = [int(f) for f in re.findall(r"^OGRFeature\(brussels\.charging-points\):(\d+)$", out, re.M)]
    assert len(fids) == len(set(fids)) == 613
    assert set(fids) == set(layers["brussels.charging-points"])


def test_ogrinfo_bbox_filter(served):
    base, layers = served
    out = ogrinfo("-al", "-q", "-spat", *map(str, FRAME), f"OAPIF:{base}", "brussels.charging-points")
    fids = {int(f) for f in re.findall(r"^OGRFeature\(brussels\.charging-points\):(\d+)$", out, re.M)}
    expected = {fid for fid, point in layers["brussels.charging-points"].items() if box(*FRAME).intersects(point)}
    assert 50 < len(expected) < 613 and fids == expected


def test_geopandas_reads_every_collection(served):
    base, layers = served
    for cid, features in layers.items():
        frame = geopandas.read_file(f"OAPIF:{base}", layer=cid, fid_as_index=True)
        assert set(frame.index) == set(features), cid
        assert len(frame) == len(features), cid
        if features:
            assert frame.crs.to_string() in ("OGC:CRS84", "EPSG:4326") and "vote_count" in frame.columns


def test_geopandas_bbox_and_a_page_size_of_its_own(served):
    base, layers = served
    frame = geopandas.read_file(f"OAPIF:{base}", layer="brussels.charging-points", bbox=FRAME, fid_as_index=True,
                                PAGE_SIZE="25")
    expected = {fid for fid, point in layers["brussels.charging-points"].items() if box(*FRAME).intersects(point)}
    assert set(frame.index) == expected


@pytest.mark.parametrize("epsg", ["EPSG:31370", "EPSG:3812"])
def test_geopandas_reads_in_the_belgian_lambert_systems(served, epsg):
    base, layers = served
    frame = geopandas.read_file(f"OAPIF:{base}", layer="brussels.book-cabinets", CRS=epsg, fid_as_index=True)
    assert frame.crs.to_epsg() == int(epsg.split(":")[1])
    to_crs = Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    assert len(frame) == 48
    for fid, point in layers["brussels.book-cabinets"].items():
        x, y = to_crs.transform(point.x, point.y)
        assert (frame.geometry[fid].x, frame.geometry[fid].y) == pytest.approx((x, y), abs=0.02)


def test_geopandas_bbox_in_lambert_72(served):
    base, layers = served
    to_l72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    frame_l72 = (147000.0, 169000.0, 151000.0, 172500.0)
    frame = geopandas.read_file(f"OAPIF:{base}", layer="brussels.charging-points", CRS="EPSG:31370",
                                bbox=frame_l72, fid_as_index=True)
    expected = {fid for fid, p in layers["brussels.charging-points"].items()
                if box(*frame_l72).intersects(geopandas.points_from_xy(*to_l72.transform([p.x], [p.y]))[0])}
    assert 10 < len(expected) and set(frame.index) == expected


def test_owslib(served):
    base, layers = served
    api = Features(base)
    assert sorted(api.feature_collections()) == sorted(layers)
    page = api.collection_items("brussels.charging-points", limit=30, bbox=list(FRAME))
    expected = {fid for fid, point in layers["brussels.charging-points"].items() if box(*FRAME).intersects(point)}
    assert page["numberMatched"] == len(expected) and page["numberReturned"] == 30
    assert {f["id"] for f in page["features"]} <= expected
    projected = api.collection_items("brussels.book-cabinets", limit=5, crs=L72)
    assert api.response_headers["Content-Crs"] == f"<{L72}>"
    assert 140_000 < projected["features"][0]["geometry"]["coordinates"][0] < 160_000
    one = api.collection_item("brussels.book-cabinets", str(projected["features"][0]["id"]))
    assert one["id"] == projected["features"][0]["id"]
    assert api.collection("brussels.book-cabinets")["title"].startswith("Boekenkastjes")
    assert "capacity" in api.collection_queryables("brussels.charging-points")["properties"]
    assert api.api()["openapi"].startswith("3.0")

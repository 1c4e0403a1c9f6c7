"""`mapsvc import`: every format in, every bad file refused whole, with the row and the problem named."""

from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from shapely.geometry import Point, box
from sqlalchemy import func, select

from mapsvc.cli import main
from mapsvc.services.sample import load_sample
from mapsvc.storage.models import Feature, Layer, Platform

DATA = Path(__file__).resolve().parents[2] / "data"
# Two places inside Brussels and one in Poperinge, far outside it.
GRAND_PLACE = (4.3524, 50.8467)
FLAGEY = (4.3720, 50.8275)
POPERINGE = (2.7270, 50.8552)


@pytest.fixture
def loaded(db):
    with db.transaction() as session:
        load_sample(session, DATA)
    return db


@pytest.fixture
def cli(app):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False)

    return run


def layer_count(db, platform, layer):
    with db.sessions() as session:
        return session.scalar(
            select(func.count(Feature.id)).join(Layer, Feature.layer_id == Layer.id)
            .join(Platform, Layer.platform_id == Platform.id)
            .where(Platform.slug == platform, Layer.slug == layer))


def write_csv(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_of_initiatives(loaded, cli, tmp_path):
    before = layer_count(loaded, "brussels", "initiatives")
    path = write_csv(tmp_path, "name,organiser,theme,address,link,lon,lat\n"
                     "Wijkfeest Élisabeth,Comité d'habitants,cultuur,Grote Markt 1,https://example.org/a,4.3524,50.8467\n"
                     "Geveltuinen,Buurt,groen,,,4.3720,50.8275\n")
    result = cli("import", "brussels", "initiatives", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 2 feature(s) into brussels/initiatives" in result.output
    assert layer_count(loaded, "brussels", "initiatives") == before + 2
    with loaded.sessions() as session:
        props = session.scalars(select(Feature.properties).where(Feature.source == "import of in.csv")
                                .order_by(Feature.id)).all()
    assert props[0] == {"name": "Wijkfeest Élisabeth", "organiser": "Comité d'habitants", "address": "Grote Markt 1",
                        "link": "https://example.org/a"}


def test_geopackage_in_lambert72_and_zipped_shapefile(loaded, cli, tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["Boekentil Flagey", "Boekentil Markt"], "condition": ["good", "fair"]},
                           geometry=[Point(FLAGEY), Point(GRAND_PLACE)], crs="EPSG:4326").to_crs("EPSG:31370")
    gdf.to_file(tmp_path / "cabinets.gpkg", driver="GPKG")
    before = layer_count(loaded, "brussels", "book-cabinets")
    result = cli("import", "brussels", "book-cabinets", str(tmp_path / "cabinets.gpkg"))
    assert result.exit_code == 0, result.output
    assert "from EPSG:31370" in result.output
    with loaded.sessions() as session:
        from geoalchemy2.shape import to_shape
        geom = to_shape(session.scalar(select(Feature.geom).where(Feature.source == "import of cabinets.gpkg")
                                       .order_by(Feature.id)))
    assert (geom.x, geom.y) == pytest.approx(FLAGEY, abs=1e-7)

    import zipfile
    shp = tmp_path / "shp"
    shp.mkdir()
    gdf.to_file(shp / "cabinets.shp")
    with zipfile.ZipFile(tmp_path / "cabinets.zip", "w") as z:
        for part in shp.iterdir():
            z.write(part, part.name)
    assert cli("import", "brussels", "book-cabinets", str(tmp_path / "cabinets.zip")).exit_code == 0
    assert layer_count(loaded, "brussels", "book-cabinets") == before + 4


def test_polygon_roofs_from_geojson(loaded, cli, tmp_path):
    x, y = POPERINGE
    gdf = gpd.GeoDataFrame({"title": ["Sporthal"], "roof_type": ["flat"]},
                           geometry=[box(x, y, x + 0.0003, y + 0.0002)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "roofs.geojson", driver="GeoJSON")
    before = layer_count(loaded, "poperinge", "solar-roofs")
    result = cli("import", "poperinge", "solar-roofs", str(tmp_path / "roofs.geojson"), "--demo")
    assert result.exit_code == 0, result.output
    assert layer_count(loaded, "poperinge", "solar-roofs") == before + 1
    with loaded.sessions() as session:
        row = session.execute(select(Feature.status, Feature.is_demo).where(Feature.source == "import of roofs.geojson")).one()
    assert tuple(row) == ("submitted", True)


@pytest.mark.parametrize("content, messages", [
    # one bad row among good ones: the whole file is refused
    ("name,theme,lon,lat\nGoed,groen,4.3524,50.8467\nBuiten,groen,2.7270,50.8552\nGoed 2,groen,4.372,50.8275\n",
     ["1 of 3 rows break the rules", "line 3: The location lies outside Brussels Hoofdstedelijk Gewest"]),
    ("name,theme,lon,lat\n,groen,4.3524,50.8467\n", ["line 2 [name]:", "required"]),
    ("name,theme,lon,lat\nA,parking,4.3524,50.8467\n", ["line 2 [theme]: Unknown theme 'parking'"]),
    ("name,link,lon,lat\nA,javascript:alert(1),4.3524,50.8467\n", ["line 2 [link]:", "http"]),
    ("name,lon,lat\nA,4.3524,abc\n", ["line 2: lon/lat must be numbers"]),
    ("name,lon,lat\n" + "".join(f"R{i},2.7,50.85\n" for i in range(30)), ["30 of 30 rows", "… and 10 more row(s)"]),
    ("name,lon,lat\n", ["holds no features"]),
    ("name,lon,lat\nA,150000,170000\n", ["line 2: Coordinates must be longitude/latitude"]),
])
def test_bad_files_change_nothing(loaded, cli, tmp_path, content, messages):
    before = layer_count(loaded, "brussels", "initiatives")
    result = cli("import", "brussels", "initiatives", str(write_csv(tmp_path, content)))
    assert result.exit_code == 1
    for message in messages:
        assert message in result.output
    assert "Traceback" not in result.output
    assert layer_count(loaded, "brussels", "initiatives") == before


@pytest.mark.parametrize("args, message", [
    (("nowhere", "initiatives"), "No platform 'nowhere'"),
    (("brussels", "bicycles"), "Platform 'brussels' has no layer 'bicycles'"),
])
def test_unknown_platform_or_layer(loaded, cli, tmp_path, args, message):
    path = write_csv(tmp_path, "name,lon,lat\nA,4.3524,50.8467\n")
    result = cli("import", *args, str(path))
    assert result.exit_code == 1 and message in result.output


def test_ignored_columns_are_reported(loaded, cli, tmp_path):
    path = write_csv(tmp_path, "name,colour,lon,lat\nA,red,4.3524,50.8467\n")
    result = cli("import", "brussels", "initiatives", str(path))
    assert result.exit_code == 0
    assert "Columns not in the layer's schema were ignored: colour." in result.output


def test_unreadable_file(loaded, cli, tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage")
    result = cli("import", "brussels", "initiatives", str(path))
    assert result.exit_code == 1 and "cannot be" in result.output


def test_simulate_adds_labelled_demo_pins_reproducibly(loaded, cli):
    before = layer_count(loaded, "beringen", "unpaving-spots")
    result = cli("simulate", "beringen", "unpaving-spots", "-n", "40", "--seed", "7")
    assert result.exit_code == 0 and "Added 40 DEMO feature(s)" in result.output
    assert layer_count(loaded, "beringen", "unpaving-spots") == before + 40

    def pins():
        with loaded.sessions() as session:
            rows = session.execute(select(Feature.source_ref, Feature.properties, Feature.is_demo)
                                   .where(Feature.source.like("%seed 7")).order_by(Feature.source_ref)).all()
        return [tuple(r) for r in rows]

    first = pins()
    assert len(first) == 40 and all(demo for _, _, demo in first)
    assert cli("simulate", "beringen", "unpaving-spots", "-n", "40", "--seed", "7", "--replace").exit_code == 0
    assert pins() == first
    assert layer_count(loaded, "beringen", "unpaving-spots") == 40  # --replace removed the earlier demo pins


def test_simulate_refuses_asset_layers(loaded, cli):
    result = cli("simulate", "brussels", "charging-points", "-n", "5")
    assert result.exit_code == 1 and "not 'charging-points'" in result.output
    assert layer_count(loaded, "brussels", "charging-points") == 613

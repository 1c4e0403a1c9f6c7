"""Reading files as GIS staff hand them over: formats, coordinate systems, and broken files."""

import zipfile

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from mapsvc.spatial.reading import FileProblem, read_features

TO_L72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
POPERINGE_MARKT = (2.72697, 50.85516)


def frame(crs="EPSG:4326"):
    gdf = gpd.GeoDataFrame({"name": ["Markt", "Station"]},
                           geometry=[Point(POPERINGE_MARKT), Point(2.7365, 50.8508)], crs="EPSG:4326")
    return gdf.to_crs(crs)


def assert_close_to_markt(result):
    got = result.frame.geometry.iloc[0]
    assert got.x == pytest.approx(POPERINGE_MARKT[0], abs=1e-7)
    assert got.y == pytest.approx(POPERINGE_MARKT[1], abs=1e-7)


def test_geojson(tmp_path):
    path = tmp_path / "in.geojson"
    frame().to_file(path, driver="GeoJSON")
    result = read_features(path)
    assert list(result.frame["name"]) == ["Markt", "Station"]
    assert result.labels == ["feature 1", "feature 2"]
    assert_close_to_markt(result)


@pytest.mark.parametrize("crs", ["EPSG:31370", "EPSG:3812"])
def test_geopackage_in_belgian_lambert_is_reprojected(tmp_path, crs):
    path = tmp_path / "in.gpkg"
    frame(crs).to_file(path, driver="GPKG")
    result = read_features(path)
    assert result.source_crs == crs
    assert result.frame.crs.to_epsg() == 4326
    assert_close_to_markt(result)


def test_zipped_shapefile(tmp_path):
    shp = tmp_path / "shp"
    shp.mkdir()
    frame("EPSG:31370").to_file(shp / "cabinets.shp")
    path = tmp_path / "cabinets.zip"
    with zipfile.ZipFile(path, "w") as z:
        for part in shp.iterdir():
            z.write(part, part.name)
    assert_close_to_markt(read_features(path))


def test_shapefile_without_prj_needs_a_crs(tmp_path):
    frame("EPSG:31370").to_file(tmp_path / "c.shp")
    (tmp_path / "c.prj").unlink()
    with pytest.raises(FileProblem, match="EPSG:31370"):
        read_features(tmp_path / "c.shp")
    assert_close_to_markt(read_features(tmp_path / "c.shp", crs="EPSG:31370"))


def test_csv_with_lon_lat_and_utf8(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("naam;x\n", encoding="utf-8")
    path.write_text("name,Latitude,Longitude\nBoîte à livres Élise,50.85516,2.72697\n", encoding="utf-8")
    result = read_features(path)
    assert result.frame["name"].iloc[0] == "Boîte à livres Élise"
    assert result.labels == ["line 2"]
    assert_close_to_markt(result)


def test_csv_with_lambert_xy(tmp_path):
    x, y = TO_L72.transform(*POPERINGE_MARKT)
    path = tmp_path / "in.csv"
    path.write_text(f"name,x,y\nMarkt,{x},{y}\n", encoding="utf-8")
    assert_close_to_markt(read_features(path, crs="EPSG:31370"))


def test_csv_decimal_comma(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('name,lon,lat\nMarkt,"2,72697","50,85516"\n', encoding="utf-8")
    assert_close_to_markt(read_features(path))


def test_csv_with_wkt(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('name,wkt\nMarkt,"POINT (2.72697 50.85516)"\n', encoding="utf-8")
    assert_close_to_markt(read_features(path))


@pytest.mark.parametrize("content, fragment", [
    ("name,lon,lat\nA,2.7,50.8\nB,east,50.8\n", "line 3: lon/lat must be numbers"),
    ("name,lon,lat\nA,nan,50.8\n", "line 2: lon/lat must be finite"),
    ("name,address\nA,Markt 1\n", "needs coordinate columns"),
    ("name,wkt\nA,POINT (1\n", "line 2: column 'wkt' is not valid WKT"),
])
def test_bad_csv_names_the_line(tmp_path, content, fragment):
    path = tmp_path / "in.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FileProblem, match=fragment):
        read_features(path)


def test_csv_in_latin1_is_refused_with_advice(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes("name,lon,lat\nBo\xeete,2.7,50.8\n".encode("latin-1"))
    with pytest.raises(FileProblem, match="UTF-8"):
        read_features(path)


def test_geopackage_with_two_layers_needs_a_choice(tmp_path):
    path = tmp_path / "two.gpkg"
    frame().to_file(path, layer="a", driver="GPKG")
    frame().to_file(path, layer="b", driver="GPKG")
    with pytest.raises(FileProblem, match="several layers"):
        read_features(path)
    assert len(read_features(path, layer="b").frame) == 2


@pytest.mark.parametrize("name, content, fragment", [
    ("x.txt", "hello", "Unsupported file type"),
    ("x.geojson", "{not json", "cannot be"),
    ("missing.geojson", None, "No such file"),
])
def test_unreadable_files(tmp_path, name, content, fragment):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(FileProblem, match=fragment):
        read_features(path)


def test_unknown_crs(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,x,y\nA,1,2\n")
    with pytest.raises(FileProblem, match="Unknown coordinate reference system"):
        read_features(path, crs="EPSG:999999")

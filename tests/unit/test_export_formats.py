"""The export writers, pure: every format re-read by GDAL (pyogrio), RFC 7946 rules, CRS, accents, empty input."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from mapsvc.export.csv_file import BOM, stream_csv
from mapsvc.export.formats import CSV, FORMATS, GEOJSON, GPKG, SHAPEFILE, export_chunks, format_for_path, \
    write_atomically
from mapsvc.export.geojson_file import stream_geojson
from mapsvc.export.ogr_files import shapefile_field_names
from mapsvc.export.records import ExportRecord, ExportSchema, layer_columns

FIELDS = {"fields": [
    {"name": "title", "type": "string"}, {"name": "surface_m2", "type": "number"},
    {"name": "vehicles", "type": "integer"}, {"name": "has_private_parking", "type": "boolean"},
    {"name": "opened_on", "type": "date"}, {"name": "link", "type": "url"},
]}
COLUMNS = layer_columns(FIELDS)
POINTS = ExportSchema("demo_points", "point", COLUMNS, "© test")
POLYGONS = ExportSchema("demo_roofs", "polygon", COLUMNS)
MIXED = ExportSchema("demo_mixed", "point_or_polygon", COLUMNS)
ACCENTS = "Café Élisabeth – Rue de l'Église, Sint-Gillis/Saint-Gilles: ë ï ç œ Noël"
CREATED = datetime(2026, 9, 14, 8, 30, 15, 123456, tzinfo=timezone.utc)
GRAND_PLACE = (4.3524133, 50.8467411)
# A roof drawn clockwise, with a clockwise hole: RFC 7946 wants the exterior turned counter-clockwise.
ROOF_CW = Polygon([(4.3500, 50.8400), (4.3500, 50.8410), (4.3510, 50.8410), (4.3510, 50.8400)],
                  [[(4.3503, 50.8403), (4.3503, 50.8407), (4.3507, 50.8407), (4.3507, 50.8403)]])
TWO_ROOFS = MultiPolygon([Polygon([(4.36, 50.85), (4.3605, 50.85), (4.3605, 50.8505)]),
                          Polygon([(4.37, 50.85), (4.3705, 50.85), (4.3705, 50.8505)])])


def values(i: int, **changes) -> dict:
    base = {"title": f"{ACCENTS} #{i}", "surface_m2": 12.5 * i, "vehicles": i, "has_private_parking": i % 2 == 0,
            "opened_on": "2026-05-31", "link": "https://www.poperinge.be/", "theme": "ontharden",
            "status": "submitted", "official_answer": "Merci, nous étudions la demande.", "vote_count": 3 * i,
            "demo": True, "source": "mapsvc test", "source_ref": f"demo-{i:04d}", "author_display_name": "Zoë",
            "created_at": CREATED, "updated_at": CREATED}
    base.update(changes)
    return base


def point_records() -> list[ExportRecord]:
    return [
        ExportRecord(1, Point(GRAND_PLACE), values(1)),
        ExportRecord(2, Point(4.3720, 50.8275), values(2, official_answer=None, author_display_name=None,
                                                         vehicles=None, surface_m2=None, has_private_parking=None)),
        ExportRecord(3, Point(2.7270, 50.8552), values(3, status="selected", theme="vergroenen")),
    ]


def polygon_records() -> list[ExportRecord]:
    return [ExportRecord(10, ROOF_CW, values(10)), ExportRecord(11, TWO_ROOFS, values(11))]


def mixed_records() -> list[ExportRecord]:
    return point_records() + polygon_records()


def write(tmp_path, fmt, records, schema, crs="EPSG:4326", name=None):
    path = tmp_path / (name or f"out{fmt.suffix}")
    path.write_bytes(b"".join(export_chunks(fmt, records, schema, crs=crs)))
    return path


# ---- an RFC 7946 checker, and proof that it catches what it should ------------------------------------

def rfc7946_problems(document: dict) -> list[str]:
    """List the RFC 7946 rules a FeatureCollection breaks: crs member, positions, winding, validity."""
    problems = []
    if document.get("type") != "FeatureCollection":
        problems.append("not a FeatureCollection")
    if "crs" in document:
        problems.append("crs member on the collection (RFC 7946 §4 removed it)")
    for n, feature in enumerate(document.get("features", [])):
        if "crs" in feature or "crs" in (feature.get("geometry") or {}):
            problems.append(f"feature {n}: crs member")
        geometry = feature["geometry"]
        for position in _positions(geometry["coordinates"]):
            if len(position) != 2:
                problems.append(f"feature {n}: position {position} is not [lon, lat]")
            lon, lat = position[0], position[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                problems.append(f"feature {n}: {position} is not lon/lat in degrees")
            if any(len(repr(float(v)).split(".")[-1]) > 7 for v in position if "e" not in repr(float(v))):
                problems.append(f"feature {n}: {position} has more than 7 decimals")
        polygons = {"Polygon": [geometry["coordinates"]], "MultiPolygon": geometry["coordinates"]}.get(
            geometry["type"], [])
        for rings in polygons:
            for k, ring in enumerate(rings):
                if ring[0] != ring[-1] or len(ring) < 4:
                    problems.append(f"feature {n}: ring {k} is not a closed linear ring")
                ccw = shapely.LinearRing(ring).is_ccw
                if (k == 0) != ccw:
                    problems.append(f"feature {n}: ring {k} turns the wrong way (exterior CCW, holes CW)")
        if not shape(geometry).is_valid:
            problems.append(f"feature {n}: invalid geometry ({shapely.is_valid_reason(shape(geometry))})")
    return problems


def _positions(coordinates):
    if coordinates and isinstance(coordinates[0], (int, float)):
        yield coordinates
    else:
        for item in coordinates:
            yield from _positions(item)


@pytest.mark.parametrize("document, fragment", [
    ({"type": "FeatureCollection", "crs": {"type": "name"}, "features": []}, "crs member"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}}]}, "wrong way"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": [150000.0, 170000.0]}}]}, "not lon/lat"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": [4.123456789, 50.1]}}]}, "more than 7 decimals"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": [4.1, 50.1, 12.0]}}]}, "is not [lon, lat]"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}]}, "invalid geometry"),
])
def test_the_rfc7946_checker_catches_each_rule(document, fragment):
    assert any(fragment in problem for problem in rfc7946_problems(document))


# ---- GeoJSON ----------------------------------------------------------------------------------------------

def test_geojson_follows_rfc7946(tmp_path):
    document = json.loads(b"".join(stream_geojson(mixed_records(), MIXED)))
    assert rfc7946_problems(document) == []
    assert document["numberReturned"] == 5 and "crs" not in document
    first = document["features"][0]
    assert first["geometry"]["coordinates"] == list(GRAND_PLACE)  # lon first, then lat
    roof = shape(document["features"][3]["geometry"])
    assert roof.equals(ROOF_CW) and roof.exterior.is_ccw and not roof.interiors[0].is_ccw


def test_geojson_reread_by_gdal_keeps_geometry_counts_and_properties(tmp_path):
    path = write(tmp_path, GEOJSON, mixed_records(), MIXED)
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326" and info["features"] == 5
    frame = pyogrio.read_dataframe(path, fid_as_index=True)  # GDAL reads a GeoJSON feature id as the FID
    assert list(frame.index) == [1, 2, 3, 10, 11]
    assert list(frame.columns[:-1]) == MIXED.column_names
    frame.insert(0, "id", frame.index)
    for record, (_, row) in zip(mixed_records(), frame.iterrows()):
        assert same_shape(row.geometry, record.geometry, 1e-7)
        assert_same_values(row, record)


def test_geojson_streams_a_batch_at_a_time():
    pulled = []

    def records():
        for i in range(10_000):
            pulled.append(i)
            yield ExportRecord(i + 1, Point(4.35, 50.85), values(i + 1))

    chunks = stream_geojson(records(), POINTS, batch_size=100)
    head, first_batch = next(chunks), next(chunks)
    assert head.startswith(b'{"type":"FeatureCollection"') and len(pulled) <= 101
    assert first_batch.count(b'"type":"Feature"') == 100
    rest = b"".join(chunks)
    assert json.loads(head + first_batch + rest)["numberReturned"] == 10_000


def test_geojson_carries_attribution_and_keeps_accents_unescaped():
    data = b"".join(stream_geojson(point_records(), POINTS))
    assert ACCENTS.encode() in data
    assert json.loads(data)["attribution"] == "© test"


# ---- CSV --------------------------------------------------------------------------------------------------

def read_csv_with_gdal(path, **options):
    return pyogrio.read_dataframe(path, X_POSSIBLE_NAMES="lon,x", Y_POSSIBLE_NAMES="lat,y",
                                  GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO", **options)


def test_csv_has_a_bom_accents_intact_and_lon_lat(tmp_path):
    data = b"".join(stream_csv(point_records(), POINTS))
    assert data.startswith(BOM.encode())
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:3] == ["id", "lon", "lat"]
    assert rows[0]["title"] == f"{ACCENTS} #1"
    assert (float(rows[0]["lon"]), float(rows[0]["lat"])) == GRAND_PLACE
    assert rows[0]["created_at"] == "2026-09-14T08:30:15.123Z"
    assert rows[1]["official_answer"] == "" and rows[1]["has_private_parking"] == ""
    assert rows[0]["demo"] == "true"
    # Excel in Belgium decodes the BOM as UTF-8; without it, Windows-1252 would garble the accents.
    assert "Ã" not in text


def test_csv_reread_by_gdal(tmp_path):
    path = write(tmp_path, CSV, point_records(), POINTS)
    frame = read_csv_with_gdal(path)
    assert len(frame) == 3 and list(frame.columns[:-1]) == ["id", *POINTS.column_names]
    for record, (_, row) in zip(point_records(), frame.iterrows()):
        assert row.geometry.equals_exact(record.geometry, 1e-7)
        assert_same_values(row, record, as_text=True)


def test_csv_of_polygons_uses_wkt(tmp_path):
    path = write(tmp_path, CSV, mixed_records(), MIXED)
    assert path.read_text(encoding="utf-8-sig").startswith("id,wkt,title")
    frame = read_csv_with_gdal(path)
    assert [g.geom_type for g in frame.geometry] == ["Point"] * 3 + ["Polygon", "MultiPolygon"]
    assert frame.geometry.iloc[3].equals_exact(ROOF_CW, 1e-7)


def test_csv_defuses_spreadsheet_formulas():
    records = [ExportRecord(1, Point(4.35, 50.85), values(1, title="=HYPERLINK(\"http://evil\")",
                                                         official_answer="-5 m² minder", vehicles=-1))]
    rows = list(csv.DictReader(io.StringIO(b"".join(stream_csv(records, POINTS)).decode("utf-8-sig"))))
    assert rows[0]["title"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["official_answer"] == "'-5 m² minder"
    assert rows[0]["vehicles"] == "-1"  # numbers stay numbers


# ---- GeoPackage and Shapefile -----------------------------------------------------------------------------

def test_geopackage_reread_by_gdal(tmp_path):
    path = write(tmp_path, GPKG, mixed_records(), MIXED)
    assert pyogrio.list_layers(path)[0][0] == "demo_mixed"
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326" and info["features"] == 5
    frame = pyogrio.read_dataframe(path)
    assert list(frame.columns[:-1]) == ["id", *MIXED.column_names]
    assert [g.geom_type for g in frame.geometry] == ["Point"] * 3 + ["Polygon", "MultiPolygon"]
    for record, (_, row) in zip(mixed_records(), frame.iterrows()):
        assert row.geometry.equals(record.geometry)
        assert_same_values(row, record)


def test_polygon_layer_is_multipolygon_in_geopackage(tmp_path):
    path = write(tmp_path, GPKG, polygon_records(), POLYGONS)
    assert pyogrio.read_info(path)["geometry_type"] == "MultiPolygon"
    frame = pyogrio.read_dataframe(path)
    assert frame.geometry.iloc[0].equals(ROOF_CW) and frame.geometry.iloc[1].equals(TWO_ROOFS)


def shapefile_frames(path):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return names, {n[:-4]: pyogrio.read_dataframe(f"zip://{path}!{n}") for n in names if n.endswith(".shp")}


def test_shapefile_zip_reread_by_gdal_with_short_field_names(tmp_path):
    path = write(tmp_path, SHAPEFILE, point_records(), POINTS)
    names, frames = shapefile_frames(path)
    assert {"demo_points.shp", "demo_points.dbf", "demo_points.shx", "demo_points.prj", "demo_points.cpg",
            "fields.csv", "README.txt"} <= set(names)
    frame = frames["demo_points"]
    short = shapefile_field_names(["id", *POINTS.column_names])
    assert list(frame.columns[:-1]) == list(short.values())
    assert all(len(name) <= 10 for name in frame.columns)
    full = frame.rename(columns={s: f for f, s in short.items()})
    for record, (_, row) in zip(point_records(), full.iterrows()):
        assert row.geometry.equals_exact(record.geometry, 1e-9)
        assert_same_values(row, record)
    with zipfile.ZipFile(path) as archive:
        mapping = list(csv.reader(io.StringIO(archive.read("fields.csv").decode())))
    assert ["answer", "official_answer"] in mapping and ["author", "author_display_name"] in mapping


def test_shapefile_of_points_and_polygons_is_two_files(tmp_path):
    _names, frames = shapefile_frames(write(tmp_path, SHAPEFILE, mixed_records(), MIXED))
    assert sorted(frames) == ["demo_mixed_points", "demo_mixed_polygons"]
    assert list(frames["demo_mixed_points"]["id"]) == [1, 2, 3]
    assert list(frames["demo_mixed_polygons"]["id"]) == [10, 11]
    assert frames["demo_mixed_polygons"].geometry.iloc[1].equals(TWO_ROOFS)


def test_shapefile_cuts_long_text_at_a_character_boundary(tmp_path):
    records = [ExportRecord(1, Point(4.35, 50.85), values(1, official_answer="é" * 300))]
    _names, frames = shapefile_frames(write(tmp_path, SHAPEFILE, records, POINTS))
    assert frames["demo_points"]["answer"].iloc[0] == "é" * 127  # 254 bytes of UTF-8


@pytest.mark.parametrize("names, expected", [
    (["title", "official_answer", "author_display_name", "vote_count"],
     ["title", "answer", "author", "vote_count"]),
    (["max_output_kw", "max_output_ac", "max_output_dc"], ["max_output", "max_outp_2", "max_outp_3"]),
    (["answer", "official_answer"], ["answer", "official_2"]),
    (["has_private_parking", "description"], ["has_privat", "descriptio"]),
])
def test_shapefile_field_names_are_short_and_unique(names, expected):
    assert list(shapefile_field_names(names).values()) == expected


# ---- CRS ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("crs", ["EPSG:31370", "EPSG:3812"])
@pytest.mark.parametrize("fmt", [GPKG, SHAPEFILE, CSV], ids=lambda f: f.key)
def test_projected_exports_match_pyproj_within_a_centimetre(tmp_path, fmt, crs):
    path = write(tmp_path, fmt, point_records(), POINTS, crs=crs)
    if fmt is CSV:
        assert path.read_text(encoding="utf-8-sig").startswith("id,x,y,")
        frame = read_csv_with_gdal(path)
    elif fmt is SHAPEFILE:
        frame = shapefile_frames(path)[1]["demo_points"]
        assert pyogrio.read_info(f"zip://{path}!demo_points.shp")["crs"] == crs
    else:
        frame = pyogrio.read_dataframe(path)
        assert pyogrio.read_info(path)["crs"] == crs
    to_target = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    for record, geometry in zip(point_records(), frame.geometry):
        x, y = to_target.transform(record.geometry.x, record.geometry.y)
        assert math.hypot(geometry.x - x, geometry.y - y) < 0.01
        assert 0 < geometry.x < 900_000 and 0 < geometry.y < 900_000  # metres, not degrees


def test_projected_polygons_in_geopackage(tmp_path):
    path = write(tmp_path, GPKG, polygon_records(), POLYGONS, crs="EPSG:31370")
    roof = pyogrio.read_dataframe(path).geometry.iloc[0]
    to_l72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    expected = shapely.transform(ROOF_CW, lambda xy: np.column_stack(to_l72.transform(xy[:, 0], xy[:, 1])))
    assert roof.equals_exact(MultiPolygon([expected]), 0.01)
    assert 6_000 < roof.area < 7_000  # 70 m x 111 m minus a 28 m x 44 m hole: square metres, not degrees


# ---- empty input, format lookup, atomic writes ----------------------------------------------------------

@pytest.mark.parametrize("schema", [POINTS, MIXED], ids=lambda s: s.geometry_type)
@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.key)
def test_empty_input_gives_a_valid_empty_file(tmp_path, fmt, schema):
    path = write(tmp_path, fmt, [], schema)
    if fmt is GEOJSON:
        document = json.loads(path.read_bytes())
        assert document["features"] == [] and document["numberReturned"] == 0 and rfc7946_problems(document) == []
    elif fmt is CSV:
        assert path.read_text(encoding="utf-8-sig").splitlines()[0].startswith("id,")
        assert len(read_csv_with_gdal(path)) == 0
    elif fmt is GPKG:
        info = pyogrio.read_info(path)
        assert info["features"] == 0 and list(info["fields"]) == ["id", *schema.column_names]
        assert info["crs"] == "EPSG:4326"
    else:
        names, frames = shapefile_frames(path)
        assert frames and all(len(frame) == 0 for frame in frames.values())
        assert "fields.csv" in names


@pytest.mark.parametrize("name, key", [("a.geojson", "geojson"), ("a.json", "geojson"), ("A.GPKG", "gpkg"),
                                       ("a.csv", "csv"), ("a.shp.zip", "shp.zip"), ("a.zip", "shp.zip"),
                                       ("a.txt", None)])
def test_format_for_path(name, key):
    found = format_for_path(name)
    assert (found.key if found else None) == key


def test_geojson_refuses_a_projected_crs():
    with pytest.raises(ValueError, match="RFC 7946"):
        b"".join(export_chunks(GEOJSON, point_records(), POINTS, crs="EPSG:31370"))


def test_write_atomically_leaves_nothing_when_the_writer_fails(tmp_path):
    def chunks():
        yield b"half a file"
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "out.csv", chunks())
    assert list(tmp_path.iterdir()) == []
    assert write_atomically(tmp_path / "out.csv", [b"a", b"bc"]) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


# ---- comparing what GDAL read with what was exported ----------------------------------------------------

def same_shape(a, b, tolerance: float) -> bool:
    return a.geom_type == b.geom_type and a.hausdorff_distance(b) <= tolerance


def plain(value):
    """Turn what pandas/GDAL hands back into plain Python: NaN/NA/NaT → None, numpy scalars → Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def assert_same_values(row, record: ExportRecord, *, as_text: bool = False):
    assert plain(row["id"]) == record.id or plain(row["id"]) == str(record.id)
    for column in COLUMNS:
        got, want = plain(row[column.name]), record.properties.get(column.name)
        if column.type == "date" and isinstance(got, datetime):  # GDAL recognises ISO dates in GeoJSON text
            got = got.date().isoformat()
        if isinstance(want, datetime):  # every format keeps milliseconds, as GeoPackage does
            want = want.replace(microsecond=want.microsecond // 1000 * 1000)
            if isinstance(got, str):  # CSV and Shapefile hold ISO text
                assert got == want.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            else:
                assert got == want, column.name
            continue
        if as_text:  # GDAL's CSV driver reads every column as text
            want = None if want is None else ("true" if want else "false") if isinstance(want, bool) \
                else repr(want) if isinstance(want, float) else str(want)
            got = None if got == "" else got
        if isinstance(want, (float, Decimal)) and got is not None:
            assert math.isclose(got, want), column.name
        else:
            assert got == want, (column.name, got, want)


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.key)
def test_a_geometry_the_schema_does_not_declare_is_refused(tmp_path, fmt):
    records = point_records() + [ExportRecord(99, ROOF_CW, values(99))]
    with pytest.raises(ValueError, match="record 99 has Polygon"):
        b"".join(export_chunks(fmt, records, POINTS))

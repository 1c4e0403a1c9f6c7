"""`mapsvc export`: format from the suffix, CRS and filters, a progress bar, clear errors, all or nothing."""

from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import update

from mapsvc.cli import main
from mapsvc.services import export as exports
from mapsvc.services.sample import load_sample
from mapsvc.storage.models import Layer

DATA = Path(__file__).resolve().parents[2] / "data"
CSV_OPTIONS = {"X_POSSIBLE_NAMES": "lon,x", "Y_POSSIBLE_NAMES": "lat,y", "GEOM_POSSIBLE_NAMES": "wkt"}


@pytest.fixture
def loaded(db):
    with db.transaction() as session:
        load_sample(session, DATA)
    return db


@pytest.fixture
def out(tmp_path):
    """An empty folder for the exports (tmp_path also holds the SpatiaLite database)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


@pytest.fixture
def cli(app):
    runner = CliRunner()

    def run(*args, catch_exceptions=False):
        return runner.invoke(main, list(map(str, args)), obj=ScriptInfo(create_app=lambda: app),
                             catch_exceptions=catch_exceptions)

    return run


@pytest.mark.parametrize("name, driver", [("out.geojson", "GeoJSON"), ("out.gpkg", "GPKG"), ("out.csv", "CSV"),
                                          ("out.shp.zip", "ESRI Shapefile")])
def test_format_follows_the_suffix(loaded, cli, out, name, driver):
    output = out / name
    result = cli("export", "poperinge", "charging-requests", output)
    assert result.exit_code == 0, result.output
    assert "Exported 150 feature(s) of poperinge/charging-requests" in result.output
    assert "Exporting" in result.output  # the progress bar, on stderr
    path = f"zip://{output}!poperinge_charging_requests.shp" if driver == "ESRI Shapefile" else output
    info = pyogrio.read_info(path, **(CSV_OPTIONS if driver == "CSV" else {}))
    assert info["driver"] == driver and info["features"] == 150
    assert [p.name for p in out.iterdir()] == [name]  # no temporary file left beside it


def test_crs_and_filters(loaded, cli, out):
    output = out / "greening.csv"
    result = cli("export", "poperinge", "unpaving-spots", output, "--crs", "EPSG:31370", "--theme", "vergroenen",
                 "--status", "submitted", "--from", "2026-09-01", "--to", "2026-12-31")
    assert result.exit_code == 0, result.output
    assert "EPSG:31370" in result.output
    assert output.read_text(encoding="utf-8-sig").startswith("id,x,y,title")
    with loaded.sessions() as session:
        options = exports.parse_options("csv", theme="vergroenen", status="submitted", date_from="2026-09-01",
                                        date_to="2026-12-31")
        prepared = exports.prepare_export(session, exports.command_line_actor(session, "poperinge"), "poperinge",
                                          "unpaving-spots", options)
        expected = exports.count_export(session, prepared)
    frame = pyogrio.read_dataframe(output, **CSV_OPTIONS)
    assert 0 < len(frame) == expected < 120
    assert set(frame["theme"]) == {"vergroenen"}
    assert 20_000 < frame.geometry.x.min() and 150_000 < frame.geometry.y.min()  # Lambert 72 metres


def test_format_option_overrides_the_suffix(loaded, cli, out):
    result = cli("export", "brussels", "book-cabinets", out / "cabinets.txt", "--format", "geojson")
    assert result.exit_code == 0, result.output
    info = pyogrio.read_info(out / "cabinets.txt")
    assert info["driver"] == "GeoJSON" and info["features"] == 48


def test_the_operator_may_export_a_layer_that_is_not_public(loaded, cli, out):
    with loaded.transaction() as session:
        session.execute(update(Layer).where(Layer.slug == "charging-points").values(is_public=False))
    result = cli("export", "brussels", "charging-points", out / "points.gpkg")
    assert result.exit_code == 0, result.output
    assert pyogrio.read_info(out / "points.gpkg")["features"] == 613


@pytest.mark.parametrize("args, fragment", [
    (["poperinge", "charging-requests", "{dir}/out.xlsx"], "Cannot tell the format"),
    (["poperinge", "charging-requests", "{dir}/out.gpkg", "--crs", "EPSG:900913"], "crs must be one of"),
    (["poperinge", "charging-requests", "{dir}/out.geojson", "--crs", "EPSG:31370"], "RFC 7946"),
    (["poperinge", "charging-requests", "{dir}/out.csv", "--from", "1 september"], "from must be a date"),
    (["poperinge", "charging-requests", "{dir}/out.csv", "--theme", "energie"], "has no theme 'energie'"),
    (["poperinge", "dragons", "{dir}/out.csv"], "no layer 'dragons'"),
    (["atlantis", "dragons", "{dir}/out.csv"], "No platform 'atlantis'"),
])
def test_errors_are_clear_and_leave_no_file(loaded, cli, out, args, fragment):
    result = cli("export", *(a.format(dir=out) for a in args))
    assert result.exit_code == 1
    assert fragment in result.output and "Traceback" not in result.output
    assert list(out.iterdir()) == []


def test_a_failing_export_leaves_no_file_and_keeps_the_old_one(loaded, cli, out, monkeypatch):
    output = out / "requests.geojson"
    output.write_text("yesterday's export")
    real = exports.export_records

    def breaks_half_way(session, prepared):
        for n, record in enumerate(real(session, prepared)):
            if n == 75:
                raise RuntimeError("the database went away")
            yield record

    monkeypatch.setattr(exports, "export_records", breaks_half_way)
    result = cli("export", "poperinge", "charging-requests", output, catch_exceptions=True)
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert [p.name for p in out.iterdir()] == ["requests.geojson"]
    assert output.read_text() == "yesterday's export"

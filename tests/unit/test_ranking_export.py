"""Rankings and plans render as RFC 7946 GeoJSON and as CSV a spreadsheet opens safely."""

import csv
import io

import numpy as np

from mapsvc.export.ranking import BOM, places_csv, places_geojson, plan_csv, plan_geojson, plan_json, to_csv
from mapsvc.suggest.ranking import Pins, rank_hotspots
from mapsvc.suggest.rollout import NONE, Points, plan_rollout


def ranking():
    pins = Pins(id=[5, 6, 7, 9], lon=[4.35, 4.3501, 4.3502, 4.40], lat=[50.85, 50.85, 50.85, 50.86], author=[1, 2, 3, 4])
    return rank_hotspots(pins)


def test_places_are_polygons_with_counts_and_member_ids():
    body = places_geojson(ranking(), layer="unpaving-spots")
    assert body["type"] == "FeatureCollection" and body["layer"] == "unpaving-spots"
    first = body["features"][0]
    assert first["geometry"]["type"] == "Polygon" and first["properties"]["feature_ids"] == [5, 6, 7]
    assert {"rank", "score", "pins", "votes", "voters", "authors", "people"} <= set(first["properties"])
    ring = first["geometry"]["coordinates"][0]
    assert all(4.3 < lon < 4.4 and 50.8 < lat < 50.9 for lon, lat in ring)            # lon/lat order


def test_places_csv_has_a_bom_a_header_and_a_row_per_place():
    text = places_csv(ranking())
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["rank", "score", "pins"] and len(rows) == 3
    assert rows[1][-1] == "5 6 7"


def test_text_that_a_spreadsheet_would_run_is_defused():
    rows = list(csv.reader(io.StringIO(to_csv(["id"], [["=HYPERLINK(1)"], ["-3"], [-3], ["ok"]])[1:])))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1)", "'-3", "-3", "ok"]


def test_a_plan_renders_as_json_geojson_and_csv():
    requests = Points(["a", "b"], [4.35, 4.40], [50.85, 50.85], [2, 1])
    candidates = Points(["=site"], [4.35], [50.8501])
    plan = plan_rollout(requests, NONE, candidates, n_sites=1)
    body = plan_json(plan, platform="x")
    assert body["sites"][0]["new_request_ids"] == ["a"] and body["uncovered_request_ids"] == ["b"]
    assert body["coverage_curve"] == [0.0, round(2 / 3, 6)] and "not walking routes" in body["distances"]
    geo = plan_geojson(plan, requests, NONE)
    assert [f["properties"]["kind"] for f in geo["features"]] == ["planned_site", "request", "request"]
    assert [f["properties"]["covered_by"] for f in geo["features"][1:]] == ["new_site", "uncovered"]
    rows = list(csv.reader(io.StringIO(plan_csv(plan)[1:])))
    assert rows[1][2] == "'=site" and rows[1][-1].startswith("straight line")
    assert np.isclose(float(rows[1][7]), 2 / 3, atol=1e-6)

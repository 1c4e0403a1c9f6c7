"""The JSON API as a client uses it, on both backends, over the sample content."""

import pytest
from shapely.geometry import box, shape

BASE = "/api/platforms"


def test_lists_the_four_platforms(sample_client):
    body = sample_client.get(BASE).get_json()
    assert [p["slug"] for p in body["platforms"]] == ["beringen", "brussels", "kapelle-op-den-bos", "poperinge"]
    brussels = body["platforms"][1]
    assert brussels["name"] == {"nl": "Brussels Hoofdstedelijk Gewest", "fr": "Région de Bruxelles-Capitale",
                                "en": "Brussels-Capital Region"}


def test_platform_detail_has_view_look_and_real_boundary(sample_client):
    body = sample_client.get(f"{BASE}/poperinge").get_json()
    assert body["kind"] == "municipality" and body["nis_code"] == "33021"
    boundary = shape(body["boundary"]["geometry"])
    assert boundary.geom_type == "MultiPolygon"
    assert 115e6 < _area_m2(boundary) < 125e6  # Poperinge is about 119 km²
    view = body["view"]
    assert boundary.contains(shape({"type": "Point", "coordinates": [view["lon"], view["lat"]]}))
    assert "Statbel" in body["boundary"]["properties"]["source"]


def _area_m2(geometry):
    import shapely
    from pyproj import Transformer

    to_l72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    return shapely.transform(geometry, lambda xy: __import__("numpy").column_stack(
        to_l72.transform(xy[:, 0], xy[:, 1]))).area


def test_layers_with_counts(sample_client):
    body = sample_client.get(f"{BASE}/brussels/layers").get_json()
    layers = {layer["slug"]: layer for layer in body["layers"]}
    assert layers["book-cabinets"]["feature_count"] == 48
    assert layers["charging-points"]["feature_count"] == 613
    assert layers["initiatives"]["feature_count"] == layers["initiatives"]["demo_feature_count"] == 148
    assert layers["charging-points"]["attribution"] == "© OpenStreetMap contributors (ODbL 1.0)"


def test_flemish_towns_show_no_book_cabinets(sample_client):
    for town in ("poperinge", "beringen", "kapelle-op-den-bos"):
        layers = {l["slug"]: l for l in sample_client.get(f"{BASE}/{town}/layers").get_json()["layers"]}
        assert layers["book-cabinets"]["feature_count"] == 0
        assert layers["charging-points"]["feature_count"] > 0


def test_layer_metadata_has_schema_window_and_voting(sample_client):
    body = sample_client.get(f"{BASE}/poperinge/layers/unpaving-spots").get_json()
    assert body["kind"] == "suggestions"
    assert body["themes"] == ["ontharden", "vergroenen"]
    names = [f["name"] for f in body["property_schema"]["fields"]]
    assert names == ["title", "description", "surface_m2"]
    assert body["voting"] == {"enabled": True, "votes_per_person": 3}
    assert body["participation"]["opens_at"] == "2026-09-01T00:00:00Z"
    assert body["participation"]["state"] in {"open", "closed", "not_yet_open"}


def test_features_are_geojson_with_demo_marked(sample_client):
    response = sample_client.get(f"{BASE}/poperinge/layers/charging-requests/features?limit=5")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == 5 and body["numberMatched"] == 150
    for feature in body["features"]:
        assert feature["properties"]["demo"] is True
        assert feature["properties"]["title"].startswith("Demo – ")
        assert feature["properties"]["status"] == "submitted"
        assert "crs" not in body


def test_paging_visits_every_feature_once(sample_client):
    url, seen = f"{BASE}/brussels/layers/charging-points/features?limit=100", []
    while url:
        body = sample_client.get(url).get_json()
        seen += [f["id"] for f in body["features"]]
        url = next((l["href"] for l in body["links"] if l["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == 613


def test_prev_link(sample_client):
    body = sample_client.get(f"{BASE}/brussels/layers/charging-points/features?limit=10&offset=25").get_json()
    prev = next(l["href"] for l in body["links"] if l["rel"] == "prev")
    assert "offset=15" in prev


def test_bbox_returns_exactly_the_features_inside(sample_client):
    everything = []
    url = f"{BASE}/brussels/layers/charging-points/features?limit=1000"
    everything = sample_client.get(url).get_json()["features"]
    frame = (4.34, 50.83, 4.37, 50.85)
    expected = {f["id"] for f in everything if box(*frame).intersects(shape(f["geometry"]))}
    assert 10 < len(expected) < 613
    body = sample_client.get(f"{url}&bbox={','.join(map(str, frame))}").get_json()
    assert {f["id"] for f in body["features"]} == expected
    assert body["numberMatched"] == len(expected)


def test_bbox_finds_polygons_that_cross_its_edge(sample_client):
    roofs = sample_client.get(f"{BASE}/poperinge/layers/solar-roofs/features?limit=1000").get_json()["features"]
    roof = shape(roofs[0]["geometry"])
    minx, miny, maxx, maxy = roof.bounds
    frame = (minx - 0.001, miny - 0.001, (minx + maxx) / 2, (miny + maxy) / 2)  # holds part of the roof only
    body = sample_client.get(f"{BASE}/poperinge/layers/solar-roofs/features?bbox={','.join(map(str, frame))}"
                             ).get_json()
    assert roofs[0]["id"] in {f["id"] for f in body["features"]}


def test_one_feature(sample_client):
    first = sample_client.get(f"{BASE}/brussels/layers/book-cabinets/features?limit=1").get_json()["features"][0]
    response = sample_client.get(f"{BASE}/brussels/layers/book-cabinets/features/{first['id']}")
    assert response.status_code == 200 and response.get_json() == first


def test_a_feature_of_another_layer_is_not_found_here(sample_client):
    first = sample_client.get(f"{BASE}/brussels/layers/book-cabinets/features?limit=1").get_json()["features"][0]
    response = sample_client.get(f"{BASE}/brussels/layers/charging-points/features/{first['id']}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_feature"


FEATURES = f"{BASE}/brussels/layers/book-cabinets/features"


@pytest.mark.parametrize("url, status, code, fragment", [
    (f"{BASE}/atlantis", 404, "unknown_platform", "known platforms: beringen"),
    (f"{BASE}/brussels/layers/dragons", 404, "unknown_layer", "its layers: charging-points"),
    (f"{BASE}/brussels/layers/dragons/features", 404, "unknown_layer", "no layer 'dragons'"),
    (f"{FEATURES}?bbox=4.3,50.8,4.4", 400, "invalid_bbox", "four numbers"),
    (f"{FEATURES}?bbox=4.4,50.8,4.3,50.9", 400, "invalid_bbox", "inverted"),
    (f"{FEATURES}?bbox=NaN,50.8,4.4,50.9", 400, "invalid_bbox", "finite"),
    (f"{FEATURES}?bbox=4.3,50.8,Infinity,50.9", 400, "invalid_bbox", "finite"),
    (f"{FEATURES}?bbox=4.3,50.8,4.4,91", 400, "invalid_bbox", "between -90 and 90"),
    (f"{FEATURES}?bbox=a,b,c,d", 400, "invalid_bbox", "must be a number"),
    (f"{FEATURES}?limit=0", 400, "invalid_parameter", "between 1 and 1000"),
    (f"{FEATURES}?limit=1001", 400, "invalid_parameter", "between 1 and 1000"),
    (f"{FEATURES}?limit=ten", 400, "invalid_parameter", "whole number"),
    (f"{FEATURES}?limit=1e3", 400, "invalid_parameter", "whole number"),
    (f"{FEATURES}?limit=NaN", 400, "invalid_parameter", "whole number"),
    (f"{FEATURES}?offset=-1", 400, "invalid_parameter", "between 0"),
    (f"{FEATURES}?offset=99999999999999999999999", 400, "invalid_parameter", "between 0"),
    (f"{FEATURES}?bbbox=1,2,3,4", 400, "unknown_parameter", "takes: bbox, limit, offset"),
    (f"{FEATURES}/abc", 400, "invalid_feature_id", "positive whole number"),
    (f"{FEATURES}/-3", 400, "invalid_feature_id", "positive whole number"),
    (f"{FEATURES}/99999999999999999999999", 400, "invalid_feature_id", "positive whole number"),
    (f"{FEATURES}/999999999", 404, "unknown_feature", "no feature 999999999"),
    ("/api/nothing-here", 404, "not_found", "/api/platforms"),
])
def test_bad_input_gets_a_clear_4xx(sample_client, url, status, code, fragment):
    response = sample_client.get(url)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert fragment in error["message"]


def test_wrong_method_is_405_json(sample_client):
    response = sample_client.post(f"{BASE}/brussels")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_offset_past_the_end_is_an_empty_page(sample_client):
    body = sample_client.get(f"{FEATURES}?offset=100000").get_json()
    assert body["features"] == [] and body["numberMatched"] == 48 and body["numberReturned"] == 0


def test_front_page_lists_platforms_and_labels_demo_data(sample_client):
    html = sample_client.get("/").get_data(as_text=True)
    assert "Poperinge" in html and "Brussels Hoofdstedelijk Gewest" in html
    assert "waarvan 148 demodata" in html
    assert "© OpenStreetMap-bijdragers" in html

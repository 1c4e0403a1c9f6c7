"""OGC API - Features at /ogc as a client uses it, on both backends, over the sample content."""

from datetime import datetime

import pytest
from pyproj import Transformer
from shapely.geometry import Polygon, box, shape

from mapsvc.storage.ogc import SYSTEM_PROPERTIES

OGC = "/ogc"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
L72 = "http://www.opengis.net/def/crs/EPSG/0/31370"
L08 = "http://www.opengis.net/def/crs/EPSG/0/3812"
POINTS = f"{OGC}/collections/brussels.charging-points"
REQUESTS = f"{OGC}/collections/poperinge.charging-requests"


def everything(client, url):
    """Collect every feature by following next links; return the features and the pages' bodies."""
    features, bodies = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        bodies.append(body)
        features += body["features"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return features, bodies


def test_landing_page_at_both_paths_links_to_the_parts(sample_client):
    for path in (OGC, OGC + "/"):
        response = sample_client.get(path)
        assert response.status_code == 200 and response.mimetype == "application/json"
    links = {(l["rel"], l["type"]): l["href"] for l in response.get_json()["links"]}
    assert links[("service-desc", "application/vnd.oai.openapi+json;version=3.0")].endswith("/ogc/api")
    assert "/ogc/conformance" in links[("conformance", "application/json")]
    assert "/ogc/collections" in links[("data", "application/json")]


def test_conformance_declares_core_geojson_html_openapi_and_crs(sample_client):
    classes = sample_client.get(f"{OGC}/conformance").get_json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/html", "ogcapi-features-1/1.0/conf/oas30",
                 "ogcapi-features-2/1.0/conf/crs"):
        assert f"http://www.opengis.net/spec/{part}" in classes


def test_one_collection_per_public_layer_with_crs_and_extent(sample_client):
    collections = sample_client.get(f"{OGC}/collections").get_json()["collections"]
    expected = {}
    for platform in sample_client.get("/api/platforms").get_json()["platforms"]:
        for layer in sample_client.get(f"/api/platforms/{platform['slug']}/layers").get_json()["layers"]:
            expected[f"{platform['slug']}.{layer['slug']}"] = layer["feature_count"]
    assert {c["id"]: c["feature_count"] for c in collections} == expected
    brussels = next(c for c in collections if c["id"] == "brussels.charging-points")
    assert brussels["title"] == "Publieke laadpunten – Brussels Hoofdstedelijk Gewest"
    assert brussels["itemType"] == "feature" and brussels["storageCrs"] == CRS84
    assert brussels["crs"] == [CRS84, L72, L08]
    minx, miny, maxx, maxy = brussels["extent"]["spatial"]["bbox"][0]
    assert 4.2 < minx < maxx < 4.5 and 50.7 < miny < maxy < 50.95
    empty = next(c for c in collections if c["id"] == "poperinge.book-cabinets")
    assert empty["extent"]["spatial"]["bbox"][0][0] > 2.5  # no features: the platform's boundary
    requests = next(c for c in collections if c["id"] == "poperinge.charging-requests")
    assert requests["title"].startswith("Demo – ") and "Demodata: 150 van de 150" in requests["description"]
    assert requests["extent"]["temporal"]["interval"][0][0] >= "2026-09-01"


def test_collection_and_items_links(sample_client):
    body = sample_client.get(POINTS).get_json()
    assert body["id"] == "brussels.charging-points"
    items = [l for l in body["links"] if l["rel"] == "items"]
    assert {l["type"] for l in items} == {"application/geo+json", "text/html"}


def test_items_are_geojson_with_counts_crs_header_and_only_public_content(sample_client):
    response = sample_client.get(f"{REQUESTS}/items?limit=7")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.headers["Content-Crs"] == f"<{CRS84}>"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 150 and body["numberReturned"] == len(body["features"]) == 7
    schema = sample_client.get("/api/platforms/poperinge/layers/charging-requests").get_json()["property_schema"]
    allowed = [f["name"] for f in schema["fields"]] + list(SYSTEM_PROPERTIES)
    for feature in body["features"]:
        assert list(feature["properties"]) == allowed
        assert feature["properties"]["demo"] is True and feature["properties"]["vote_count"] == 0
        assert feature["properties"]["author_display_name"] is None
        assert isinstance(feature["id"], int) and feature["geometry"]["type"] == "Point"
    assert "crs" not in body


def test_paging_never_skips_or_repeats_and_prev_links_walk_back(sample_client):
    features, bodies = everything(sample_client, f"{POINTS}/items?limit=50")
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids)) == 613 and ids == sorted(ids)
    assert [b["numberReturned"] for b in bodies] == [50] * 12 + [13]
    assert all(b["numberMatched"] == 613 for b in bodies)
    assert not any(l["rel"] == "prev" for l in bodies[0]["links"])
    back, url = [], next(l["href"] for l in bodies[-1]["links"] if l["rel"] == "prev")
    while url:
        body = sample_client.get(url).get_json()
        back = [f["id"] for f in body["features"]] + back
        url = next((l["href"] for l in body["links"] if l["rel"] == "prev"), None)
    assert back == ids[:600]


def test_paging_through_a_bbox_keeps_the_filter(sample_client):
    frame = (4.33, 50.82, 4.39, 50.86)
    everything_ = sample_client.get(f"{POINTS}/items?limit=1000").get_json()["features"]
    expected = {f["id"] for f in everything_ if box(*frame).intersects(shape(f["geometry"]))}
    assert 50 < len(expected) < 613
    features, bodies = everything(sample_client, f"{POINTS}/items?limit=20&bbox={','.join(map(str, frame))}")
    assert [f["id"] for f in features] == sorted(expected)
    assert bodies[0]["numberMatched"] == len(expected)


def test_offset_pages_too(sample_client):
    first = sample_client.get(f"{POINTS}/items?limit=10").get_json()["features"]
    second = sample_client.get(f"{POINTS}/items?limit=5&offset=5").get_json()
    assert [f["id"] for f in second["features"]] == [f["id"] for f in first[5:]]
    past = sample_client.get(f"{POINTS}/items?limit=5&offset=5000").get_json()
    assert past["numberReturned"] == 0 and past["numberMatched"] == 613
    assert any(l["rel"] == "prev" for l in past["links"])


def test_bbox_finds_polygons_that_cross_its_edge(sample_client):
    roofs = sample_client.get(f"{OGC}/collections/poperinge.solar-roofs/items?limit=1000").get_json()["features"]
    roof = next(f for f in roofs if f["geometry"]["type"] == "Polygon")
    minx, miny, maxx, maxy = shape(roof["geometry"]).bounds
    frame = f"{minx - 0.001},{miny - 0.001},{(minx + maxx) / 2},{(miny + maxy) / 2}"
    found = sample_client.get(f"{OGC}/collections/poperinge.solar-roofs/items?bbox={frame}").get_json()
    assert roof["id"] in {f["id"] for f in found["features"]}


def test_bbox_in_lambert_72_selects_what_lies_in_that_box(sample_client):
    to_l72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    frame = (147000.0, 169000.0, 151000.0, 172500.0)
    everything_ = sample_client.get(f"{POINTS}/items?limit=1000").get_json()["features"]
    expected = {f["id"] for f in everything_
                if box(*frame).contains(shape({"type": "Point", "coordinates": to_l72.transform(
                    *f["geometry"]["coordinates"])}))}
    assert 10 < len(expected) < 300
    body = sample_client.get(f"{POINTS}/items?limit=1000&bbox={','.join(map(str, frame))}&bbox-crs={L72}").get_json()
    assert {f["id"] for f in body["features"]} == expected and body["numberMatched"] == len(expected)


@pytest.mark.parametrize("uri, epsg", [(L72, "EPSG:31370"), (L08, "EPSG:3812"), ("EPSG:31370", "EPSG:31370")])
def test_crs_reprojects_coordinates_and_says_so(sample_client, uri, epsg):
    plain = sample_client.get(f"{POINTS}/items?limit=20").get_json()["features"]
    response = sample_client.get(f"{POINTS}/items?limit=20&crs={uri}")
    assert response.status_code == 200
    assert response.headers["Content-Crs"] == f"<{L72 if epsg == 'EPSG:31370' else L08}>"
    to_crs = Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    for lonlat, projected in zip(plain, response.get_json()["features"]):
        x, y = to_crs.transform(*lonlat["geometry"]["coordinates"])
        assert projected["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.02)
        assert 20_000 < projected["geometry"]["coordinates"][0] < 800_000  # metres, easting first
    one = sample_client.get(f"{POINTS}/items/{plain[0]['id']}?crs={uri}")
    assert one.headers["Content-Crs"] == response.headers["Content-Crs"]
    assert one.get_json()["geometry"] == response.get_json()["features"][0]["geometry"]


def _created(feature) -> datetime:
    return datetime.fromisoformat(feature["properties"]["created_at"].replace("Z", "+00:00"))


@pytest.mark.parametrize("interval", [
    "2026-09-20T00:00:00Z/..", "../2026-09-20T00:00:00Z", "2026-09-10T00:00:00Z/2026-09-25T12:00:00Z",
    "2026-09-15", "2026-09-10/2026-09-20", "2026-09-01T00:00:00Z/",
])
def test_datetime_intervals_filter_on_creation_time(sample_client, interval):
    everything_ = sample_client.get(f"{REQUESTS}/items?limit=1000").get_json()["features"]
    start, _, end = interval.partition("/")
    low = None if start in ("", "..") else datetime.fromisoformat((start + "T00:00:00Z" if "T" not in start
                                                                   else start).replace("Z", "+00:00"))
    if "/" not in interval:
        high = datetime.fromisoformat(start + "T23:59:59.999999+00:00")
    elif end in ("", ".."):
        high = None
    else:
        high = datetime.fromisoformat((end + "T23:59:59.999999Z" if "T" not in end else end).replace("Z", "+00:00"))
    expected = {f["id"] for f in everything_ if (low is None or _created(f) >= low)
                and (high is None or _created(f) <= high)}
    assert 0 < len(expected) <= 150
    body = sample_client.get(f"{REQUESTS}/items?limit=1000&datetime={interval}").get_json()
    assert {f["id"] for f in body["features"]} == expected and body["numberMatched"] == len(expected)


@pytest.mark.parametrize("collection, query, check", [
    ("brussels.charging-points", "operator=Allego", lambda p: p["operator"] == "Allego"),
    ("brussels.charging-points", "capacity=2", lambda p: p["capacity"] == 2),
    ("brussels.charging-points", "max_output_kw=22", lambda p: p["max_output_kw"] == 22),
    ("poperinge.charging-requests", "has_private_parking=false", lambda p: p["has_private_parking"] is False),
    ("poperinge.charging-requests", "vehicles=2&demo=true", lambda p: p["vehicles"] == 2 and p["demo"]),
    ("poperinge.unpaving-spots", "theme=vergroenen", lambda p: p["theme"] == "vergroenen"),
    ("poperinge.unpaving-spots", "status=submitted", lambda p: p["status"] == "submitted"),
])
def test_property_filters_on_simple_fields(sample_client, collection, query, check):
    url = f"{OGC}/collections/{collection}/items?limit=1000"
    expected = {f["id"] for f in sample_client.get(url).get_json()["features"] if check(f["properties"])}
    assert expected
    body = sample_client.get(f"{url}&{query}").get_json()
    assert {f["id"] for f in body["features"]} == expected


def test_a_too_large_limit_is_lowered_to_the_maximum(sample_client):
    body = sample_client.get(f"{POINTS}/items?limit=5000").get_json()
    assert body["numberReturned"] == 613
    assert "limit=1000" in next(l["href"] for l in body["links"] if l["rel"] == "self")
    assert sample_client.get(f"{POINTS}/items").get_json()["numberReturned"] == 100  # the default


def test_one_feature_and_its_links(sample_client):
    first = sample_client.get(f"{POINTS}/items?limit=1").get_json()["features"][0]
    response = sample_client.get(f"{POINTS}/items/{first['id']}")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.get_json()
    assert {k: body[k] for k in ("type", "id", "geometry", "properties")} == first
    assert {l["rel"] for l in body["links"]} >= {"self", "alternate", "collection"}


@pytest.mark.parametrize("path", ["", "/conformance", "/collections", "/collections/brussels.book-cabinets",
                                  "/collections/brussels.book-cabinets/items?limit=5"])
def test_html_for_browsers_and_f_html(sample_client, path):
    by_header = sample_client.get(OGC + path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    by_param = sample_client.get(OGC + path + ("&" if "?" in path else "?") + "f=html")
    for response in (by_header, by_param):
        assert response.status_code == 200 and response.mimetype == "text/html"
        assert "<html" in response.get_data(as_text=True)
    as_json = sample_client.get(OGC + path + ("&" if "?" in path else "?") + "f=json",
                                headers={"Accept": "text/html"})
    assert as_json.mimetype in ("application/json", "application/geo+json")


def test_html_feature_page(sample_client):
    first = sample_client.get(f"{POINTS}/items?limit=1").get_json()["features"][0]
    html = sample_client.get(f"{POINTS}/items/{first['id']}?f=html").get_data(as_text=True)
    assert first["properties"]["source_ref"] in html and "Brussels Hoofdstedelijk Gewest" in html


def test_openapi_document(sample_client):
    response = sample_client.get(f"{OGC}/api")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.get_json()
    assert doc["openapi"].startswith("3.0")
    assert {"/", "/conformance", "/collections", "/collections/{collectionId}/items",
            "/collections/{collectionId}/items/{featureId}"} <= set(doc["paths"])
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 1000, 100)
    own = doc["paths"]["/collections/brussels.charging-points/items"]["get"]["parameters"]
    assert {"operator", "capacity", "status"} <= {p.get("name") for p in own}


def test_queryables(sample_client):
    body = sample_client.get(f"{POINTS}/queryables").get_json()
    assert body["properties"]["capacity"]["type"] == "integer"
    assert body["properties"]["operator"]["type"] == "string" and "demo" in body["properties"]


ITEMS = f"{POINTS}/items"


@pytest.mark.parametrize("url, status, fragment", [
    (f"{OGC}/collections/atlantis.dragons", 404, "the collections are: beringen.charging-points"),
    (f"{OGC}/collections/atlantis.dragons/items", 404, "No collection"),
    (f"{OGC}/collections/brussels", 404, "No collection"),
    (f"{OGC}/collections/brussels.dragons/items/1", 404, "No collection"),
    (f"{ITEMS}/999999999", 404, "no feature 999999999"),
    (f"{ITEMS}/abc", 404, "whole numbers"),
    (f"{ITEMS}?bbox=4.3,50.8,4.4", 400, "four numbers"),
    (f"{ITEMS}?bbox=4.4,50.8,4.3,50.9", 400, "inverted"),
    (f"{ITEMS}?bbox=NaN,50.8,4.4,50.9", 400, "finite"),
    (f"{ITEMS}?bbox=4.3,50.8,4.4,91", 400, "between -90 and 90"),
    (f"{ITEMS}?bbox=a,b,c,d", 400, "must be a number"),
    (f"{ITEMS}?bbox=150000,170000,149000,171000&bbox-crs={L72}", 400, "inverted"),
    (f"{ITEMS}?bbox=4.3,50.8,4.4,50.9&bbox-crs=EPSG:4269", 400, "not offered"),
    (f"{ITEMS}?bbox-crs={L72}", 400, "together with bbox"),
    (f"{ITEMS}?crs=EPSG:3857", 400, "not offered"),
    (f"{ITEMS}?crs=banana", 400, "not offered"),
    (f"{ITEMS}/1?crs=EPSG:900913", 400, "not offered"),
    (f"{ITEMS}?datetime=yesterday", 400, "RFC 3339"),
    (f"{ITEMS}?datetime=2026-09-01T10:00:00", 400, "time zone"),
    (f"{ITEMS}?datetime=2026-10-01/2026-09-01", 400, "ends before it starts"),
    (f"{ITEMS}?datetime=../..", 400, "at least one bound"),
    (f"{ITEMS}?limit=0", 400, "limit must be a whole number from 1"),
    (f"{ITEMS}?limit=ten", 400, "limit must be a whole number"),
    (f"{ITEMS}?limit=-5", 400, "limit must be a whole number"),
    (f"{ITEMS}?offset=-1", 400, "offset"),
    (f"{ITEMS}?offset=5&after=3", 400, "at most one of offset, after and before"),
    (f"{ITEMS}?capacity=two", 400, "capacity is a whole number"),
    (f"{ITEMS}?max_output_kw=inf", 400, "max_output_kw is a number"),
    (f"{ITEMS}?demo=maybe", 400, "demo is true or false"),
    (f"{ITEMS}?bbbox=1,2,3,4", 400, "Unknown query parameter(s): bbbox"),
    (f"{ITEMS}?f=xml", 400, "f must be json or html"),
    (f"{OGC}/collections?limit=5", 400, "Unknown query parameter(s): limit"),
    (f"{OGC}/nowhere", 404, "No such path"),
])
def test_errors_in_the_ogc_exception_format(sample_client, url, status, fragment):
    response = sample_client.get(url)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == ("NotFound" if status == 404 else "InvalidParameterValue")
    assert fragment in body["description"]


def test_errors_are_a_page_for_browsers(sample_client):
    response = sample_client.get(f"{OGC}/collections/atlantis.dragons", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "atlantis.dragons" in response.get_data(as_text=True)


def test_a_projected_outline_is_a_real_polygon():
    from mapsvc.spatial.ogc_crs import parse_frame

    frame = parse_frame("147000,169000,151000,172500", L72)
    outline = Polygon(frame.outline)
    assert outline.is_valid and box(*frame.bbox).contains(outline)
    assert outline.area < box(*frame.bbox).area  # the projected box is not the lon/lat box

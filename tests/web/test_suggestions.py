"""Dropping, editing and withdrawing pins through the API: every rule with its own clear answer."""

from datetime import timedelta

import pytest

from mapsvc.storage.models import Feature, Vote, utcnow
from tests.web.conftest import bearer, pin, set_layer

LAYER = "/api/platforms/testdorp/layers/unpaving-spots"
FEATURES = f"{LAYER}/features"


def post(client, person, body, query=""):
    return client.post(FEATURES + query, json=body, headers=bearer(person))


def test_a_pin_is_created_and_listed_with_zero_votes(client, people):
    response = post(client, people["resident"], pin(description="Veel tegels", theme="vergroenen", surface_m2=40))
    assert response.status_code == 201
    created = response.get_json()
    assert created["properties"]["status"] == "submitted" and created["properties"]["vote_count"] == 0
    assert created["properties"]["demo"] is False
    listed = client.get(FEATURES).get_json()["features"]
    assert [f["id"] for f in listed] == [created["id"]]
    assert listed[0]["properties"]["title"] == "Tegels eruit aan de school"
    assert listed[0]["properties"]["theme"] == "vergroenen"
    assert "author_id" not in listed[0]["properties"]


def test_html_is_stored_as_text(client, people):
    title = '<img src=x onerror="alert(1)">'
    created = post(client, people["resident"], pin(title=title)).get_json()
    assert client.get(f"{FEATURES}/{created['id']}").get_json()["properties"]["title"] == title


@pytest.mark.parametrize("body, status, code, field", [
    (pin(5000.0), 422, "outside_boundary", None),
    (pin(title=""), 422, "required", "title"),
    (pin(title="x" * 121), 422, "too_long", "title"),
    (pin(description="y" * 2001), 422, "too_long", "description"),
    (pin(surface_m2="groot"), 422, "type", "surface_m2"),
    (pin(theme="parking"), 422, "choice", "theme"),
    (pin(status="selected"), 422, "unknown_field", "status"),
    (pin(colour="red"), 422, "unknown_field", "colour"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[4.39, 50.89], [4.391, 50.89],
                                                                          [4.391, 50.891], [4.39, 50.89]]]},
      "properties": {"title": "Vlak"}}, 422, "geometry_type", None),
    ({"type": "Feature", "geometry": None, "properties": {"title": "Nergens"}}, 422, "missing_geometry", None),
])
def test_rules_are_enforced_with_the_field_named(client, people, body, status, code, field):
    response = post(client, people["resident"], body)
    assert response.status_code == status
    problems = response.get_json()["error"]["details"]["problems"]
    assert {"code": code, "field": field} in [{"code": p["code"], "field": p["field"]} for p in problems]
    assert client.get(FEATURES).get_json()["numberMatched"] == 0


@pytest.mark.parametrize("data, code", [
    ("not json", "invalid_json"),
    ('{"type": "FeatureCollection", "features": []}', "not_a_feature"),
    ('{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 50.9]}, "properties": {"title": "t"}}',
     "invalid_geometry"),
    ('{"type": "Feature", "geometry": {"type": "Point", "coordinates": "here"}, "properties": {"title": "t"}}',
     "invalid_geometry"),
    ('{"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.4, 50.9]}, "properties": [1]}',
     "not_a_feature"),
])
def test_malformed_bodies_are_400(client, people, data, code):
    response = client.post(FEATURES, data=data, content_type="application/json", headers=bearer(people["resident"]))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


@pytest.mark.parametrize("opens, closes, message", [
    (timedelta(days=-10), timedelta(days=-1), "is closed"),
    (timedelta(days=2), timedelta(days=9), "has not opened yet"),
])
def test_only_while_the_layer_is_open(client, db, people, opens, closes, message):
    now = utcnow()
    set_layer(db, "unpaving-spots", opens_at=now + opens, closes_at=now + closes)
    response = post(client, people["resident"], pin())
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "layer_closed" and message in response.get_json()["error"]["message"]


def test_asset_layers_take_no_pins(client, people):
    response = client.post("/api/platforms/testdorp/layers/charging-points/features", json=pin(),
                           headers=bearer(people["resident"]))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_a_suggestion_layer"


def test_nearby_duplicates_are_offered_first(client, db, people):
    first = post(client, people["resident"], pin()).get_json()
    near = post(client, people["neighbour"], pin(30.0))
    assert near.status_code == 409
    error = near.get_json()["error"]
    assert error["code"] == "nearby_duplicates"
    [offered] = error["details"]["nearby"]
    assert offered["id"] == first["id"] and 29 < offered["distance_m"] < 31 and offered["vote_count"] == 0
    assert post(client, people["neighbour"], pin(30.0), "?allow_nearby=true").status_code == 201
    assert post(client, people["neighbour"], pin(80.0)).status_code == 201  # beyond the default 50 m
    set_layer(db, "unpaving-spots", duplicate_distance_m=100.0)
    assert post(client, people["neighbour"], pin(-90.0)).status_code == 409


def test_author_edits_and_withdraws_while_submitted(client, db, people):
    created = post(client, people["resident"], pin()).get_json()
    url = f"{FEATURES}/{created['id']}"
    edited = client.put(url, json=pin(10.0, title="Meer groen"), headers=bearer(people["resident"]))
    assert edited.status_code == 200 and edited.get_json()["properties"]["title"] == "Meer groen"
    other = client.put(url, json=pin(title="Van mij"), headers=bearer(people["neighbour"]))
    assert other.status_code == 403 and other.get_json()["error"]["code"] == "not_the_author"
    official = client.delete(url, headers=bearer(people["official"]))
    assert official.status_code == 403
    outside = client.put(url, json=pin(9000.0), headers=bearer(people["resident"]))
    assert outside.status_code == 422
    client.post(f"{url}/vote", headers=bearer(people["neighbour"]))
    assert client.delete(url, headers=bearer(people["resident"])).status_code == 204
    assert client.get(url).status_code == 404
    with db.sessions() as session:
        assert session.query(Vote).count() == 0  # its votes went with it


def test_no_edits_once_under_review(client, db, people):
    created = post(client, people["resident"], pin()).get_json()
    with db.transaction() as session:
        session.get(Feature, created["id"]).status = "under_review"
    url = f"{FEATURES}/{created['id']}"
    response = client.put(url, json=pin(title="Later"), headers=bearer(people["resident"]))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "no_longer_editable"
    assert client.delete(url, headers=bearer(people["resident"])).status_code == 409


def test_unknown_feature_and_layer(client, people):
    assert client.put(f"{FEATURES}/999999", json=pin(), headers=bearer(people["resident"])).status_code == 404
    response = client.post("/api/platforms/testdorp/layers/nope/features", json=pin(),
                           headers=bearer(people["resident"]))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_layer"

"""The list view's JSON (sorted, paged, marked, public only) and address search through a geocoder stand-in."""

from __future__ import annotations

import json
import re
import socket

import pytest

from mapsvc.storage.models import Feature
from tests.support.nominatim_standin import NominatimStandIn
from tests.web.conftest import bearer, pin

LIST = "/api/platforms/testdorp/layers/unpaving-spots/list"
FEATURES = "/api/platforms/testdorp/layers/unpaving-spots/features"

# Testdorp is the box 4.38–4.42 E, 50.88–50.92 N; the third place lies in Poperinge.
PLACES = [
    {"lat": "50.9001", "lon": "4.4012", "type": "house", "display_name": "Dorpsstraat 1, Testdorp"},
    {"lat": "50.9100", "lon": "4.3900", "type": "house", "display_name": "Dorpsstraat 77, Testdorp"},
    {"lat": "50.8554", "lon": "2.7270", "type": "house", "display_name": "Dorpsstraat 1, Poperinge"},
    {"lat": "abc", "lon": "4.40", "type": "house", "display_name": "Dorpsstraat 5 (no coordinates), Testdorp"},
]


@pytest.fixture
def suggestions(client, people):
    """Three suggestions by the resident, 200 m apart; two votes on the second, one on the third."""
    ids = [client.post(FEATURES, json=pin(i * 200.0, title=f"Plek {i}"), headers=bearer(people["resident"]))
           .get_json()["id"] for i in range(3)]
    for person, feature in (("neighbour", ids[1]), ("official", ids[1]), ("neighbour", ids[2])):
        assert client.post(f"{FEATURES}/{feature}/vote", headers=bearer(people[person])).status_code == 201
    return ids


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_sorted_by_votes_or_by_date(client, suggestions):
    first, second, third = suggestions
    assert ids_of(client.get(LIST)) == [second, third, first]              # votes is the default
    assert ids_of(client.get(f"{LIST}?sort=newest")) == [third, second, first]
    assert ids_of(client.get(f"{LIST}?sort=oldest")) == [first, second, third]
    item = client.get(LIST).get_json()["items"][0]
    assert item["title"] == "Plek 1" and item["vote_count"] == 2 and item["status"] == "submitted"
    assert set(item) == {"id", "lon", "lat", "title", "theme", "status", "vote_count", "demo", "created_at", "mine",
                         "voted", "pending"}


def test_pages_follow_each_other(client, suggestions):
    page = client.get(f"{LIST}?sort=oldest&limit=2").get_json()
    assert page["total"] == 3 and page["next_offset"] == 2 and len(page["items"]) == 2
    rest = client.get(f"{LIST}?sort=oldest&limit=2&offset=2").get_json()
    assert rest["next_offset"] is None and [i["id"] for i in page["items"] + rest["items"]] == suggestions


def test_own_pins_and_votes_are_marked_for_that_person_only(client, people, suggestions):
    neighbour = client.get(LIST, headers=bearer(people["neighbour"])).get_json()
    assert {i["id"]: i["voted"] for i in neighbour["items"]} == {suggestions[0]: False, suggestions[1]: True,
                                                                 suggestions[2]: True}
    assert {i["id"]: i["mine"] for i in neighbour["items"]} == dict.fromkeys(suggestions, False)
    assert neighbour["votes_left"] == 1
    resident = client.get(LIST, headers=bearer(people["resident"])).get_json()
    assert {i["id"]: i["mine"] for i in resident["items"]} == dict.fromkeys(suggestions, True)
    assert resident["votes_left"] == 3
    anonymous = client.get(LIST).get_json()
    assert "votes_left" not in anonymous
    assert {i["id"]: (i["mine"], i["voted"]) for i in anonymous["items"]} == dict.fromkeys(suggestions, (False, False))


def test_no_personal_data_in_the_list(client, people, suggestions):
    text = client.get(LIST, headers=bearer(people["neighbour"])).get_data(as_text=True)
    for person in people.values():
        assert person.email not in text
    assert "author" not in text and "user_id" not in text and "voter" not in text


def test_only_public_suggestions_and_ones_own_pending_pin(client, db, people, suggestions):
    with db.transaction() as session:
        session.get(Feature, suggestions[0]).visibility = "hidden"
        session.get(Feature, suggestions[2]).visibility = "pending"
    anonymous = client.get(LIST).get_json()
    assert [i["id"] for i in anonymous["items"]] == [suggestions[1]] and anonymous["total"] == 1
    author = client.get(LIST, headers=bearer(people["resident"])).get_json()
    assert {i["id"]: i["pending"] for i in author["items"]} == {suggestions[1]: False, suggestions[2]: True}
    assert author["total"] == 2


@pytest.mark.parametrize("query, status, code", [
    ("?sort=best", 400, "invalid_parameter"),
    ("?limit=0", 400, "invalid_parameter"),
    ("?limit=201", 400, "invalid_parameter"),
    ("?offset=-1", 400, "invalid_parameter"),
    ("?order=votes", 400, "unknown_parameter"),
])
def test_bad_list_queries_say_what_to_change(client, testdorp, query, status, code):
    response = client.get(LIST + query)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_only_suggestion_layers_have_a_list(client, testdorp):
    assets = client.get("/api/platforms/testdorp/layers/charging-points/list")
    assert assets.status_code == 404 and assets.get_json()["error"]["code"] == "not_a_suggestion_layer"
    unknown = client.get("/api/platforms/testdorp/layers/nothing/list")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_layer"


def test_the_layer_page_carries_the_list_and_the_coordinates_form(client, testdorp):
    html = client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert 'id="mapsvc-list"' in html and 'data-url="/api/platforms/testdorp/layers/unpaving-spots/list"' in html
    assert 'id="mapsvc-coords-form"' in html and 'href="#mapsvc-access"' in html
    assert 'id="mapsvc-address-form"' not in html          # no geocoder configured: coordinates only
    assert "mapsvc/listview.js" in html and "mapsvc/keyboard.js" in html
    assert 'id="mapsvc-list"' in client.get("/embed/testdorp/unpaving-spots").get_data(as_text=True)
    assert 'id="mapsvc-list"' not in client.get("/p/testdorp/charging-points").get_data(as_text=True)


def test_without_a_geocoder_address_search_is_off(client, testdorp):
    response = client.get("/api/geocode?platform=testdorp&q=Dorpsstraat")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "geocoder_not_configured"
    assert "coordinates" in response.get_json()["error"]["message"]


def test_addresses_come_from_the_geocoder_inside_the_platform(make_app, testdorp):
    with NominatimStandIn(PLACES) as geocoder:
        app = make_app(GEOCODER_URL=geocoder.url)
        client = app.test_client()
        assert 'id="mapsvc-address-form"' in client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
        response = client.get("/api/geocode?platform=testdorp&q=Dorpsstraat&lang=fr")
    assert response.status_code == 200
    assert response.get_json() == {"results": [
        {"label": "Dorpsstraat 1, Testdorp", "lat": 50.9001, "lon": 4.4012, "kind": "house"},
        {"label": "Dorpsstraat 77, Testdorp", "lat": 50.91, "lon": 4.39, "kind": "house"}]}
    sent = geocoder.queries[-1]
    assert sent["format"] == ["jsonv2"] and sent["q"] == ["Dorpsstraat"] and sent["bounded"] == ["1"]
    assert [float(v) for v in sent["viewbox"][0].split(",")] == pytest.approx([4.38, 50.92, 4.42, 50.88])
    assert sent["accept-language"] == ["fr"] and geocoder.user_agents[-1].startswith("mapsvc")


def test_geocoder_questions_are_checked_first(make_app, testdorp):
    with NominatimStandIn(PLACES) as geocoder:
        client = make_app(GEOCODER_URL=geocoder.url).test_client()
        cases = {"/api/geocode?platform=testdorp": (400, "missing_parameter"),
                 "/api/geocode?platform=testdorp&q=%20%20": (400, "missing_parameter"),
                 "/api/geocode?q=Dorpsstraat": (400, "missing_parameter"),
                 "/api/geocode?platform=testdorp&q=" + "x" * 201: (400, "invalid_parameter"),
                 "/api/geocode?platform=nowhere&q=Dorpsstraat": (404, "unknown_platform"),
                 "/api/geocode?platform=testdorp&q=a&bbox=1,2,3,4": (400, "unknown_parameter")}
        for url, (status, code) in cases.items():
            response = client.get(url)
            assert (response.status_code, response.get_json()["error"]["code"]) == (status, code), url
        assert geocoder.queries == []        # none of these reached the geocoder


def test_a_broken_or_absent_geocoder_is_a_502(make_app, testdorp):
    with NominatimStandIn(PLACES, broken=True) as geocoder:
        broken = make_app(GEOCODER_URL=geocoder.url).test_client().get("/api/geocode?platform=testdorp&q=Dorpsstraat")
    assert broken.status_code == 502 and broken.get_json()["error"]["code"] == "geocoder_failed"
    with socket.socket() as s:                 # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    absent = make_app(GEOCODER_URL=closed).test_client().get("/api/geocode?platform=testdorp&q=Dorpsstraat")
    assert absent.status_code == 502 and "coordinates" in absent.get_json()["error"]["message"]


def test_the_page_speaks_the_chosen_language(client, testdorp):
    html = client.get("/p/testdorp/unpaving-spots?lang=en").get_data(as_text=True)
    assert "Place a pin by address or coordinates" in html and "All suggestions as a list" in html
    config = json.loads(re.search(r'<script type="application/json" id="mapsvc-config">(.*?)</script>', html, re.S)
                        .group(1))
    assert config["messages"]["access.list_heading"] == "All suggestions as a list"

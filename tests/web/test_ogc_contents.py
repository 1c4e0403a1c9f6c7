"""What OGC API - Features shows: public layers only, no personal data, authors only by chosen display name."""

import pytest
from shapely.geometry import Point
from sqlalchemy import select

from mapsvc.storage.features import insert_features
from mapsvc.storage.models import Feature, Layer, Platform, Vote
from tests.web.conftest import CENTRE

OGC = "/ogc/collections"


@pytest.fixture
def pins(db, testdorp, people):
    """Pins on testdorp: one by a resident without display name, one by 'Neighbour' with two votes, one
    with markup in its title, and one on the Christmas village, which is made private."""
    with db.transaction() as session:
        layers = {layer.slug: layer for layer in session.get(Platform, testdorp).layers}
        unpaving, village = layers["unpaving-spots"], layers["christmas-village"]
        village.is_public = False
        base = {"source": "test", "status": "submitted", "is_demo": False}
        rows = [
            {**base, "geometry": Point(CENTRE), "author_id": people["resident"].user_id,
             "properties": {"title": "Tegels eruit aan de school"}},
            {**base, "geometry": Point(CENTRE[0] + 0.001, CENTRE[1]), "author_id": people["neighbour"].user_id,
             "properties": {"title": "Geveltuin"}},
            {**base, "geometry": Point(CENTRE[0], CENTRE[1] + 0.001), "author_id": people["resident"].user_id,
             "properties": {"title": "<script>alert(1)</script>"}},
        ]
        insert_features(session, unpaving.id, rows)
        insert_features(session, village.id, [{**base, "geometry": Point(CENTRE), "properties": {"title": "Stal"},
                                               "author_id": people["neighbour"].user_id}])
        by_layer = {}
        for fid, layer_id in session.execute(select(Feature.id, Feature.layer_id).order_by(Feature.id)):
            by_layer.setdefault(layer_id, []).append(fid)
        resident_pin, neighbour_pin, script_pin = by_layer[unpaving.id]
        for voter in ("resident", "admin"):
            session.add(Vote(feature_id=neighbour_pin, layer_id=unpaving.id, user_id=people[voter].user_id))
        return {"resident": resident_pin, "neighbour": neighbour_pin, "script": script_pin,
                "village": by_layer[village.id][0]}


def test_private_layers_are_not_served(client, pins, db):
    ids = [c["id"] for c in client.get(OGC).get_json()["collections"]]
    assert "testdorp.unpaving-spots" in ids and "testdorp.christmas-village" not in ids
    for url in (f"{OGC}/testdorp.christmas-village", f"{OGC}/testdorp.christmas-village/items",
                f"{OGC}/testdorp.christmas-village/items/{pins['village']}",
                f"{OGC}/testdorp.unpaving-spots/items/{pins['village']}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.get_json()["code"] == "NotFound"
    assert "christmas-village" not in client.get("/ogc/api").get_data(as_text=True)
    with db.transaction() as session:
        session.query(Layer).filter_by(slug="christmas-village").one().is_public = True
    assert client.get(f"{OGC}/testdorp.christmas-village/items").get_json()["numberMatched"] == 1


def test_authors_only_by_display_name_and_votes_as_counts(client, pins, people):
    response = client.get(f"{OGC}/testdorp.unpaving-spots/items")
    features = {f["id"]: f["properties"] for f in response.get_json()["features"]}
    assert features[pins["neighbour"]]["author_display_name"] == "Neighbour"
    assert features[pins["resident"]]["author_display_name"] is None
    assert features[pins["neighbour"]]["vote_count"] == 2 and features[pins["resident"]]["vote_count"] == 0
    one = client.get(f"{OGC}/testdorp.unpaving-spots/items/{pins['neighbour']}").get_json()["properties"]
    assert one == features[pins["neighbour"]]
    for url in (f"{OGC}/testdorp.unpaving-spots/items", f"{OGC}/testdorp.unpaving-spots/items?f=html",
                f"{OGC}/testdorp.unpaving-spots/items/{pins['neighbour']}?f=html", OGC, "/ogc/api"):
        text = client.get(url).get_data(as_text=True)
        assert "@testdorp.example" not in text and "author_id" not in text and "user_id" not in text
        for person in people.values():
            assert f'"{person.user_id}"' not in text


def test_html_escapes_what_residents_typed(client, pins):
    html = client.get(f"{OGC}/testdorp.unpaving-spots/items?f=html").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = client.get(f"{OGC}/testdorp.unpaving-spots/items/{pins['script']}?f=html").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def test_a_logged_in_client_reads_the_same(client, pins, people):
    from tests.web.conftest import bearer

    anonymous = client.get(f"{OGC}/testdorp.unpaving-spots/items").get_json()
    with_token = client.get(f"{OGC}/testdorp.unpaving-spots/items", headers=bearer(people["official"])).get_json()
    assert with_token["features"] == anonymous["features"] and with_token["numberMatched"] == 3

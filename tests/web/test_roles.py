"""What each role may change: platform look and embedding (admin), layer rules (admin, the layer's manager)."""

import pytest

from tests.web.conftest import bearer

PLATFORM = "/api/platforms/testdorp"
UNPAVING = f"{PLATFORM}/layers/unpaving-spots"
VILLAGE = f"{PLATFORM}/layers/christmas-village"


@pytest.mark.parametrize("who, status", [
    ("admin", 200), ("official", 403), ("moderator", 403), ("manager", 403), ("resident", 403),
])
def test_only_admins_change_the_platform(client, people, who, status):
    response = client.patch(PLATFORM, json={"embed_origins": ["https://www.testdorp.be"]}, headers=bearer(people[who]))
    assert response.status_code == status


def test_anonymous_gets_401(client, people):
    assert client.patch(PLATFORM, json={"colour_primary": "#000000"}).status_code == 401


@pytest.mark.parametrize("who, url, status", [
    ("admin", UNPAVING, 200), ("manager", UNPAVING, 200), ("manager", VILLAGE, 403),
    ("official", UNPAVING, 403), ("resident", UNPAVING, 403),
])
def test_layer_rules_by_admin_or_the_layers_manager(client, people, who, url, status):
    response = client.patch(url, json={"votes_per_person": 5}, headers=bearer(people[who]))
    assert response.status_code == status
    expected = 5 if status == 200 else 3
    assert client.get(url).get_json()["voting"]["votes_per_person"] == (expected if url == UNPAVING else None)


def test_embed_origins_are_normalised(client, people):
    body = client.patch(PLATFORM, json={"embed_origins": ["https://www.testdorp.be/", "http://localhost:8080"]},
                        headers=bearer(people["admin"])).get_json()
    assert body["embed_origins"] == ["http://localhost:8080", "https://www.testdorp.be"]


@pytest.mark.parametrize("body, code", [
    ({"embed_origins": ["https://www.testdorp.be/participatie"]}, "invalid_origin"),
    ({"embed_origins": ["*"]}, "invalid_origin"),
    ({"embed_origins": ["javascript:alert(1)"]}, "invalid_origin"),
    ({"embed_origins": "https://www.testdorp.be"}, "invalid_origin"),
    ({"colour_primary": "red"}, "invalid_colour"),
    ({"logo_url": "http://insecure.example/logo.png"}, "invalid_url"),
    ({"name_nl": "Anders"}, "unknown_setting"),
])
def test_bad_platform_settings(client, people, body, code):
    response = client.patch(PLATFORM, json=body, headers=bearer(people["admin"]))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


@pytest.mark.parametrize("body, code", [
    ({"opens_at": "2027-01-01T00:00:00Z", "closes_at": "2026-12-01T00:00:00Z"}, "invalid_window"),
    ({"opens_at": "2026-12-01"}, "invalid_datetime"),
    ({"opens_at": "next week"}, "invalid_datetime"),
    ({"votes_per_person": 0}, "invalid_setting"),
    ({"votes_per_person": True}, "invalid_setting"),
    ({"duplicate_distance_m": -5}, "invalid_setting"),
    ({"voting_enabled": "yes"}, "invalid_setting"),
    ({"kind": "assets"}, "unknown_setting"),
])
def test_bad_layer_settings_change_nothing(client, people, body, code):
    before = client.get(UNPAVING).get_json()
    response = client.patch(UNPAVING, json=body, headers=bearer(people["admin"]))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code
    assert client.get(UNPAVING).get_json() == before


def test_window_can_be_set_and_cleared(client, people):
    body = client.patch(UNPAVING, json={"opens_at": "2026-09-01T00:00:00+02:00", "closes_at": None},
                        headers=bearer(people["admin"])).get_json()
    assert body["opens_at"] == "2026-08-31T22:00:00Z" and body["closes_at"] is None


def test_a_non_public_layer_is_only_for_staff(client, db, people):
    from tests.web.conftest import set_layer

    set_layer(db, "christmas-village", is_public=False)
    anonymous = client.get(f"{VILLAGE}/features")
    assert anonymous.status_code == 404 and anonymous.get_json()["error"]["code"] == "unknown_layer"
    assert "christmas-village" not in anonymous.get_json()["error"]["message"].split("its layers:")[1]
    for who, status in [("resident", 404), ("manager", 404), ("moderator", 200), ("official", 200), ("admin", 200)]:
        assert client.get(f"{VILLAGE}/features", headers=bearer(people[who])).status_code == status, who
        listed = [l["slug"] for l in client.get(f"{PLATFORM}/layers", headers=bearer(people[who])).get_json()["layers"]]
        assert ("christmas-village" in listed) == (status == 200), who
    assert client.post(f"{VILLAGE}/features", json={"type": "Feature"}, headers=bearer(people["resident"])
                       ).status_code == 404
    assert "Kerstdorp" not in client.get("/").get_data(as_text=True)

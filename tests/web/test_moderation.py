"""Moderation over HTTP: who may do what, the answers to bad input, flags, pre-moderation, the officials' page."""

from __future__ import annotations

import re

import pytest

from mapsvc.storage.models import Feature, Flag, ModerationEvent
from tests.web.conftest import bearer, csrf_of, login, pin

P, L = "testdorp", "unpaving-spots"
API = f"/api/platforms/{P}/layers/{L}"
PAGE = f"/p/{P}/{L}/moderation"


def drop(client, person, east_m: float = 0.0, title: str = "Tegels eruit") -> dict:
    response = client.post(f"{API}/features?allow_nearby=true", json=pin(east_m, title=title), headers=bearer(person))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def error_of(response) -> str:
    return response.get_json()["error"]["code"]


def test_queue_is_for_moderators_only(client, people):
    drop(client, people["resident"])
    assert client.get(f"{API}/moderation").status_code == 401
    for name in ("resident", "neighbour"):
        response = client.get(f"{API}/moderation", headers=bearer(people[name]))
        assert response.status_code == 403 and error_of(response) == "not_a_moderator"
    for name in ("moderator", "official", "admin", "manager"):
        response = client.get(f"{API}/moderation", headers=bearer(people[name]))
        assert response.status_code == 200 and response.get_json()["numberMatched"] == 1
    # The manager of the unpaving layer does not moderate the Christmas village.
    assert client.get(f"/api/platforms/{P}/layers/christmas-village/moderation",
                      headers=bearer(people["manager"])).status_code == 403
    assert client.get(f"{API}/moderation?show=nonsense", headers=bearer(people["moderator"])).status_code == 400


@pytest.mark.parametrize("action,body", [("hide", {"reason": "x"}), ("restore", {}), ("approve", {}),
                                         ("status", {"status": "under_review"}), ("dismiss-flags", {})])
def test_actions_need_a_moderator(client, people, action, body):
    fid = drop(client, people["resident"])["id"]
    assert error_of(client.post(f"{API}/features/{fid}/{action}", json=body)) == "login_required"
    response = client.post(f"{API}/features/{fid}/{action}", json=body, headers=bearer(people["neighbour"]))
    assert response.status_code == 403 and error_of(response) == "not_a_moderator"


def test_hide_needs_a_reason_and_the_answer_shows_the_state(client, people, db):
    fid = drop(client, people["resident"])["id"]
    url = f"{API}/features/{fid}/hide"
    for body in ({}, {"reason": "  "}):
        response = client.post(url, json=body, headers=bearer(people["moderator"]))
        assert response.status_code == 422 and error_of(response) == "reason_required"
    assert error_of(client.post(url, json={"reason": 3}, headers=bearer(people["moderator"]))) == "invalid_reason"
    assert error_of(client.post(url, json={"why": "x"}, headers=bearer(people["moderator"]))) == "unknown_field"
    assert client.post(url, data="not json", content_type="application/json",
                       headers=bearer(people["moderator"])).status_code == 400
    response = client.post(url, json={"reason": "Persoonsgegevens in de titel"}, headers=bearer(people["moderator"]))
    assert response.status_code == 200
    state = response.get_json()
    assert state["visibility"] == "hidden" and state["moderation_reason"] == "Persoonsgegevens in de titel"
    assert client.get(f"{API}/features/{fid}").status_code == 404
    assert client.post(url, json={"reason": "x"}, headers=bearer(people["moderator"])).status_code == 409
    restored = client.post(f"{API}/features/{fid}/restore", headers=bearer(people["official"]))
    assert restored.status_code == 200 and restored.get_json()["visibility"] == "visible"
    assert client.get(f"{API}/features/{fid}").status_code == 200
    with db.transaction() as session:
        assert [e.action for e in session.query(ModerationEvent).filter_by(feature_id=fid)
                .order_by(ModerationEvent.id)] == ["hide", "restore"]
    assert client.post(f"{API}/features/999999/hide", json={"reason": "x"},
                       headers=bearer(people["moderator"])).status_code == 404


def test_status_changes_and_the_official_answer_on_the_pin(client, people):
    fid = drop(client, people["resident"])["id"]
    url = f"{API}/features/{fid}/status"
    official = bearer(people["official"])
    assert error_of(client.post(url, json={"status": "done"}, headers=official)) == "invalid_status"
    assert client.post(url, json={"status": "done"}, headers=official).status_code == 400
    missing = client.post(url, json={"status": "rejected"}, headers=official)
    assert missing.status_code == 422 and error_of(missing) == "official_answer_required"
    skipping = client.post(url, json={"status": "realised"}, headers=official)
    assert skipping.status_code == 409 and error_of(skipping) == "invalid_transition"
    assert skipping.get_json()["error"]["details"]["allowed"] == ["rejected", "under_review"]
    answer = "Dank je. We nemen dit mee in de heraanleg van 2027."
    response = client.post(url, json={"status": "under_review", "official_answer": answer}, headers=official)
    assert response.status_code == 200 and response.get_json()["status"] == "under_review"
    shown = client.get(f"{API}/features/{fid}").get_json()["properties"]
    assert shown["status"] == "under_review" and shown["official_answer"] == answer
    other_layer = client.post(f"/api/platforms/{P}/layers/charging-points/features/{fid}/status",
                              json={"status": "selected"}, headers=official)
    assert other_layer.status_code == 409 and error_of(other_layer) == "not_a_suggestion_layer"
    # Moderators hide, restore and approve; the status and the answer are the officials' (and the manager's).
    refused = client.post(url, json={"status": "selected", "official_answer": "x"}, headers=bearer(people["moderator"]))
    assert refused.status_code == 403 and error_of(refused) == "not_an_official"
    assert client.get(f"{API}/features/{fid}").get_json()["properties"]["status"] == "under_review"
    managed = client.post(url, json={"status": "selected", "official_answer": "Komt er"},
                          headers=bearer(people["manager"]))
    assert managed.status_code == 200 and managed.get_json()["status"] == "selected"


def test_a_resident_flags_a_pin_once_and_nobody_else_sees_it(client, people):
    fid = drop(client, people["resident"])["id"]
    url = f"{API}/features/{fid}/flag"
    assert client.post(url, json={}).status_code == 401
    first = client.post(url, json={"reason": "Reclame voor een aannemer"}, headers=bearer(people["neighbour"]))
    assert first.status_code == 201 and first.get_json() == {"flagged": True}
    again = client.post(url, headers=bearer(people["neighbour"]))
    assert again.status_code == 409 and error_of(again) == "already_flagged"
    too_long = client.post(url, json={"reason": "x" * 501}, headers=bearer(people["admin"]))
    assert too_long.status_code == 422 and error_of(too_long) == "too_long"
    assert client.post(f"{API}/features/999999/flag", headers=bearer(people["admin"])).status_code == 404
    # Flags are never public: not on the feature, the pins, the list or the export.
    for public in (f"{API}/features/{fid}", f"{API}/features", f"{API}/pins?zoom=16", f"{API}/export.geojson",
                   f"/ogc/collections/{P}.{L}/items?f=json"):
        text = client.get(public).get_data(as_text=True)
        assert "Reclame voor een aannemer" not in text and "flag" not in text, public
    answer = client.get(f"{API}/moderation", headers=bearer(people["moderator"]))
    properties = answer.get_json()["features"][0]["properties"]
    moderation = properties["moderation"]
    # The flag's reason, never who flagged: no person's id, name or address in the moderators' answer.
    assert moderation == {"visibility": "visible", "reason": None, "moderated_at": None, "open_flags": 1,
                          "flag_reasons": ["Reclame voor een aannemer"]}
    assert not {"author_id", "user_id", "flagged_by", "moderated_by", "email", "display_name"} & set(properties)
    assert people["neighbour"].email not in answer.get_data(as_text=True)


def test_flagging_is_rate_limited(make_app, people, db):
    client = make_app(RATE_LIMIT_PINS="2/hour").test_client()
    ids = [drop(client, people[name], 300 * k)["id"] for k, name in enumerate(("resident", "moderator", "official"))]
    codes = [client.post(f"{API}/features/{fid}/flag", headers=bearer(people["neighbour"])).status_code
             for fid in ids]
    assert codes == [201, 201, 429]
    with db.transaction() as session:
        assert session.query(Flag).count() == 2


def test_premoderation_setting_and_the_pending_answer(client, people):
    url = f"/api/platforms/{P}/layers/{L}"
    assert client.patch(url, json={"premoderation": "yes"}, headers=bearer(people["admin"])).status_code == 400
    assert client.patch(url, json={"premoderation": True}, headers=bearer(people["resident"])).status_code == 403
    response = client.patch(url, json={"premoderation": True}, headers=bearer(people["manager"]))
    assert response.status_code == 200 and response.get_json()["premoderation"] is True
    created = drop(client, people["resident"])
    assert created["properties"]["visibility"] == "pending"
    fid = created["id"]
    assert client.get(f"{API}/features").get_json()["numberMatched"] == 0
    queue = client.get(f"{API}/moderation?show=pending", headers=bearer(people["moderator"])).get_json()
    assert [f["id"] for f in queue["features"]] == [fid] and queue["premoderation"] is True
    assert client.post(f"{API}/features/{fid}/approve", headers=bearer(people["moderator"])).status_code == 200
    assert client.post(f"{API}/features/{fid}/approve", headers=bearer(people["moderator"])).status_code == 409
    assert client.get(f"{API}/features").get_json()["numberMatched"] == 1
    client.patch(url, json={"premoderation": False}, headers=bearer(people["admin"]))
    assert drop(client, people["resident"], 300)["properties"]["visibility"] == "visible"


def test_moderation_page_redirects_anonymous_people_and_refuses_residents(client, people):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert "moderation" in response.headers["Location"]
    login(client, people["resident"].email)
    assert client.get(PAGE).status_code == 403


def test_moderation_page_lists_flagged_first_and_its_forms_work(client, people, db):
    quiet = drop(client, people["resident"], 0, "Rustige pin")["id"]
    flagged = drop(client, people["resident"], 300, "Gemelde pin")["id"]
    client.post(f"{API}/features/{flagged}/flag", json={"reason": "Scheldwoorden"}, headers=bearer(people["neighbour"]))
    assert login(client, people["official"].email).status_code == 302
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("Gemelde pin") < html.index("Rustige pin") and "Scheldwoorden" in html
    assert f'<label for="reason-{flagged}">' in html and f'id="reason-{flagged}"' in html
    assert f'<label for="status-{flagged}">' in html and f'<label for="answer-{flagged}">' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    # Without the CSRF token the form is refused; with it, hiding works and the page says so.
    action = f"{PAGE}/{flagged}/hide"
    assert client.post(action, data={"reason": "Scheldwoorden"}).status_code == 400
    missing = client.post(action, data={"reason": " ", "csrf_token": token})
    assert missing.status_code == 422 and "Geef een reden op." in missing.get_data(as_text=True)
    done = client.post(action, data={"reason": "Scheldwoorden", "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#pin-{flagged}")
    assert "De pin is verborgen." in client.get(done.headers["Location"]).get_data(as_text=True)
    with db.transaction() as session:
        assert session.get(Feature, flagged).visibility == "hidden"
    answered = client.post(f"{PAGE}/{quiet}/status", data={"status": "rejected", "official_answer": "",
                                                             "csrf_token": token})
    assert answered.status_code == 422
    answered = client.post(f"{PAGE}/{quiet}/status", data={"status": "under_review", "csrf_token": token,
                                                             "official_answer": "We bekijken dit in het voorjaar."})
    assert answered.status_code == 302
    with db.transaction() as session:
        assert session.get(Feature, quiet).official_answer == "We bekijken dit in het voorjaar."
    assert client.post(f"{PAGE}/{quiet}/explode", data={"csrf_token": token}).status_code == 400


def test_moderators_get_no_status_form(client, people, db):
    fid = drop(client, people["resident"])["id"]
    login(client, people["moderator"].email)
    html = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert f'<label for="reason-{fid}">' in html  # hiding: yes
    assert f'id="status-{fid}"' not in html and f'id="answer-{fid}"' not in html
    assert "Officials of the municipality and the manager of this layer change a suggestion&#39;s status" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    refused = client.post(f"{PAGE}/{fid}/status", data={"status": "under_review", "official_answer": "x",
                                                          "csrf_token": token})
    assert refused.status_code == 403
    with db.transaction() as session:
        assert session.get(Feature, fid).status == "submitted"


# "²" and "٣" are digits to str.isdigit(); "²" is no number to int(). Neither is an id: a 4xx, never a 500.
@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "1%C2%B2"])
def test_ids_of_non_ascii_digits_are_refused(client, people, raw):
    assert client.get(f"{API}/features/{raw}").status_code == 400
    assert client.post(f"{API}/features/{raw}/hide", json={"reason": "x"},
                       headers=bearer(people["moderator"])).status_code == 400
    assert client.post(f"{PAGE}/{raw}/hide", data={"reason": "x"}).status_code in (302, 400)  # login / CSRF first
    assert client.get(f"/api/platforms/{P}/layers/{L}/news/{raw}").status_code == 400
    assert client.get(f"/ogc/collections/{P}.{L}/items/{raw}?f=json").status_code == 404
    assert client.get(f"/ogc/collections/{P}.{L}/items?f=json&limit={raw}").status_code == 400


def test_moderation_page_speaks_french_and_english(client, people):
    drop(client, people["resident"])
    login(client, people["moderator"].email)
    assert "Modération de" in client.get(PAGE + "?lang=fr").get_data(as_text=True)
    assert "Moderation of" in client.get(PAGE + "?lang=en").get_data(as_text=True)


def test_layer_page_links_moderators_to_the_moderation_page(client, people):
    login(client, people["moderator"].email)
    assert PAGE in client.get(f"/p/{P}/{L}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, people["resident"].email)
    assert PAGE not in client.get(f"/p/{P}/{L}").get_data(as_text=True)

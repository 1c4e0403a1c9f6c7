"""The account page and API over HTTP: download, deletion, language and name, privacy settings, retention CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from mapsvc.cli import main
from mapsvc.services import accounts
from mapsvc.storage.models import User, utcnow
from tests.web.conftest import PASSWORD, bearer, csrf_of, login, pin, set_layer

FEATURES = "/api/platforms/testdorp/layers/unpaving-spots/features"


def _form_token(client, path: str = "/account") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_anonymous_visitors_are_asked_to_log_in(client, people):
    assert client.get("/api/me/data").status_code == 401
    assert client.delete("/api/me", json={"password": PASSWORD}).status_code == 401
    assert client.patch("/api/me", json={"locale": "fr"}).status_code == 401
    page = client.get("/account")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/account"


def test_the_download_is_a_dated_json_attachment_of_ones_own_data(client, people):
    resident = people["resident"]
    created = client.post(FEATURES, json=pin(), headers=bearer(resident)).get_json()
    login(client, resident.email)
    response = client.get("/api/me/data")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert re.fullmatch(r'attachment; filename="mapsvc-my-data-\d{4}-\d{2}-\d{2}\.json"',
                        response.headers["Content-Disposition"])
    assert "no-store" in response.headers["Cache-Control"]
    data = response.get_json()
    assert data["account"]["email"] == resident.email
    assert [p["id"] for p in data["pins"]] == [created["id"]]
    assert [t["name"] for t in data["api_tokens"]] == ["tests"] and "token_hash" not in str(data)
    assert people["neighbour"].email not in response.get_data(as_text=True)
    # A script with the person's token may fetch it too (reading only).
    assert client.get("/api/me/data", headers=bearer(people["neighbour"])).get_json()["account"]["email"] \
        == people["neighbour"].email


def test_deleting_through_the_api_needs_a_session_csrf_and_the_password(client, people):
    resident = people["resident"]
    login(client, resident.email)
    no_csrf = client.delete("/api/me", json={"password": PASSWORD})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["error"]["code"] == "csrf_failed"
    csrf = {"X-CSRFToken": csrf_of(client)}
    missing = client.delete("/api/me", json={}, headers=csrf)
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "password_required"
    wrong = client.delete("/api/me", json={"password": "not my password"}, headers=csrf)
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "wrong_password"
    by_token = client.application.test_client().delete("/api/me", json={"password": PASSWORD},
                                                       headers=bearer(resident))
    assert by_token.status_code == 403 and by_token.get_json()["error"]["code"] == "session_required"
    assert client.get("/api/me").get_json()["user"]["id"] == resident.user_id       # still there

    done = client.delete("/api/me", json={"password": PASSWORD}, headers=csrf)
    assert done.status_code == 200 and done.get_json()["deleted"] is True
    assert client.get("/api/me").get_json() == {"user": None}
    assert login(client, resident.email).status_code == 401
    assert client.get("/api/me/data", headers=bearer(resident)).status_code == 401   # tokens went too


def test_the_account_page_shows_consequences_and_deletes_with_the_password(client, people, db):
    neighbour = people["neighbour"]
    client.post(FEATURES, json=pin(), headers=bearer(neighbour))
    admin = bearer(people["admin"])
    assert client.patch("/api/platforms/testdorp", json={"deleted_account_pins": "remove"},
                        headers=admin).status_code == 200
    login(client, neighbour.email)
    page = client.get("/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Mijn account</h1>" in html
    assert "Je 1 pin(nen) op Testdorp worden verwijderd" in html
    assert neighbour.email in html and 'href="/account/updates"' in html and 'action="/api/me/data"' in html
    token = _form_token(client)

    refused = client.post("/account/delete", data={"csrf_token": token, "password": "wrong password!"})
    assert refused.status_code == 403 and 'role="alert"' in refused.get_data(as_text=True)
    assert "Dat wachtwoord klopt niet" in refused.get_data(as_text=True)
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 400   # no CSRF token

    gone = client.post("/account/delete", data={"csrf_token": token, "password": PASSWORD})
    assert gone.status_code == 303 and gone.headers["Location"] == "/account/deleted"
    assert "Je account is verwijderd" in client.get("/account/deleted").get_data(as_text=True)
    assert client.get("/api/me").get_json() == {"user": None}
    assert client.get(FEATURES).get_json()["numberMatched"] == 0                  # policy 'remove'


def test_choosing_a_language_stores_the_locale_and_sets_the_cookie(client, people):
    login(client, people["resident"].email)
    token = _form_token(client)
    response = client.post("/account/language", data={"csrf_token": token, "locale": "fr"})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert any(c.startswith("mapsvc_lang=fr;") for c in response.headers.getlist("Set-Cookie"))
    assert client.get("/api/me").get_json()["user"]["locale"] == "fr"
    page = client.get("/account").get_data(as_text=True)
    assert "<h1>Mon compte</h1>" in page and "Votre choix de langue est enregistré." in page
    bad = client.post("/account/language", data={"csrf_token": token, "locale": "de"})
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)


def test_the_display_name_can_be_changed_and_cleared(client, people):
    login(client, people["neighbour"].email)
    token = _form_token(client)
    assert client.post("/account/name", data={"csrf_token": token, "display_name": "  Buur   Jan "}).status_code == 303
    assert client.get("/api/me").get_json()["user"]["display_name"] == "Buur Jan"
    too_long = client.post("/account/name", data={"csrf_token": token, "display_name": "x" * 81})
    assert too_long.status_code == 400 and "hoogstens 80 tekens" in too_long.get_data(as_text=True)
    client.post("/account/name", data={"csrf_token": token, "display_name": ""})
    assert client.get("/api/me").get_json()["user"]["display_name"] is None


def test_patch_me_changes_locale_and_name(client, people):
    token = bearer(people["resident"])
    response = client.patch("/api/me", json={"locale": "en", "display_name": "Res"}, headers=token)
    assert response.get_json() == {"locale": "en", "display_name": "Res"}
    assert any(c.startswith("mapsvc_lang=en;") for c in response.headers.getlist("Set-Cookie"))
    for body, code in (({"locale": "de"}, "invalid_locale"), ({"email": "x@y.be"}, "unknown_setting"),
                       ({"display_name": 5}, "invalid_display_name"), ([1], "invalid_json")):
        refused = client.patch("/api/me", json=body, headers=token)
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == code


def test_the_auth_bar_links_to_the_account_page(client, people):
    login(client, people["resident"].email)
    assert 'href="/account"' in client.get("/p/testdorp").get_data(as_text=True)


@pytest.mark.parametrize("body", [{"deleted_account_pins": "delete"}, {"deleted_account_votes": "anonymise"},
                                  {"deleted_account_pins": None}, {"deleted_account_votes": ["keep"]}])
def test_platform_privacy_policies_are_validated(client, people, body):
    refused = client.patch("/api/platforms/testdorp", json=body, headers=bearer(people["admin"]))
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_setting"


def test_only_platform_admins_set_the_privacy_policies(client, people):
    body = {"deleted_account_pins": "remove", "deleted_account_votes": "remove"}
    assert client.patch("/api/platforms/testdorp", json=body, headers=bearer(people["official"])).status_code == 403
    done = client.patch("/api/platforms/testdorp", json=body, headers=bearer(people["admin"]))
    assert done.status_code == 200
    assert (done.get_json()["deleted_account_pins"], done.get_json()["deleted_account_votes"]) == ("remove", "remove")


@pytest.mark.parametrize("value", [-1, 3651, "30", True, 1.5])
def test_vote_retention_days_are_validated(client, people, value):
    refused = client.patch("/api/platforms/testdorp/layers/unpaving-spots", json={"vote_retention_days": value},
                           headers=bearer(people["admin"]))
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_setting"


def test_vote_retention_days_are_set_and_cleared(client, people):
    url = "/api/platforms/testdorp/layers/unpaving-spots"
    assert client.patch(url, json={"vote_retention_days": 30},
                        headers=bearer(people["manager"])).get_json()["vote_retention_days"] == 30
    assert client.patch(url, json={"vote_retention_days": None},
                        headers=bearer(people["admin"])).get_json()["vote_retention_days"] is None


def test_the_retention_command_reports_and_unlinks(app, db, client, people):
    feature = client.post(FEATURES, json=pin(), headers=bearer(people["resident"])).get_json()
    client.post(f"{FEATURES}/{feature['id']}/vote", headers=bearer(people["neighbour"]))
    set_layer(db, "unpaving-spots", closes_at=utcnow() - timedelta(days=40), vote_retention_days=30)
    runner = CliRunner()
    run = lambda *args: runner.invoke(main, ["privacy", "retention", *args],  # noqa: E731
                                      obj=ScriptInfo(create_app=lambda: app))
    dry = run("--dry-run")
    assert dry.exit_code == 0 and "testdorp/unpaving-spots: would unlink 1 vote(s)" in dry.output
    assert client.get("/api/platforms/testdorp/layers/unpaving-spots/my-votes",
                      headers=bearer(people["neighbour"])).get_json()["feature_ids"] == [feature["id"]]
    done = run()
    assert done.exit_code == 0 and "testdorp/unpaving-spots: unlinked 1 vote(s)" in done.output
    assert client.get("/api/platforms/testdorp/layers/unpaving-spots/my-votes",
                      headers=bearer(people["neighbour"])).get_json()["feature_ids"] == []
    assert client.get(f"{FEATURES}/{feature['id']}").get_json()["properties"]["vote_count"] == 1
    assert "unlinked 0 vote(s)" in run().output


def test_another_browser_of_a_deleted_account_does_not_become_the_next_account(app, client, db, people, backend):
    with db.transaction() as session:  # the newest account: its id is the highest
        leaver_id = accounts.create_user(session, "leaver@testdorp.example", PASSWORD).id
    login(client, "leaver@testdorp.example")
    phone = app.test_client()  # the same person's other browser, still logged in
    login(phone, "leaver@testdorp.example")
    assert phone.get("/api/me").get_json()["user"]["id"] == leaver_id
    done = client.delete("/api/me", json={"password": PASSWORD}, headers={"X-CSRFToken": csrf_of(client)})
    assert done.status_code == 200

    with db.transaction() as session:
        if backend == "spatialite":  # INTEGER PRIMARY KEY without AUTOINCREMENT: max(id) + 1 again
            newcomer = accounts.create_user(session, "newcomer@testdorp.example", PASSWORD)
        else:  # a PostgreSQL sequence never repeats itself: give the newcomer that id explicitly
            newcomer = User(id=leaver_id, email="newcomer@testdorp.example", locale="nl", is_active=True)
            session.add(newcomer)
            session.flush()
        assert newcomer.id == leaver_id

    assert phone.get("/api/me").get_json() == {"user": None}
    with phone.session_transaction() as cookie:
        assert "user_id" not in cookie  # cleared, not merely ignored
    assert phone.post(FEATURES, json=pin()).status_code == 401


@pytest.mark.parametrize("body", [{"password": 12345678901}, {"password": ["x"]}, {"confirm": {"word": "DELETE"}},
                                  {"password": None, "confirm": 1}])
def test_deleting_with_a_password_or_confirm_that_is_not_text_is_a_400(client, people, body):
    login(client, people["resident"].email)
    refused = client.delete("/api/me", json=body, headers={"X-CSRFToken": csrf_of(client)})
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "invalid_json" and "is text" in error["message"]
    assert client.get("/api/me").get_json()["user"]["id"] == people["resident"].user_id


def test_a_layer_whose_voters_were_forgotten_takes_no_votes_even_when_reopened(app, db, client, people):
    url = "/api/platforms/testdorp/layers/unpaving-spots"
    feature = client.post(FEATURES, json=pin(), headers=bearer(people["resident"])).get_json()["id"]
    assert client.post(f"{FEATURES}/{feature}/vote", headers=bearer(people["neighbour"])).status_code == 201
    set_layer(db, "unpaving-spots", closes_at=utcnow() - timedelta(days=40), vote_retention_days=30)
    done = CliRunner().invoke(main, ["privacy", "retention"], obj=ScriptInfo(create_app=lambda: app))
    assert done.exit_code == 0 and "unlinked 1 vote(s)" in done.output

    later = (utcnow() + timedelta(days=30)).isoformat()
    reopened = client.patch(url, json={"closes_at": later}, headers=bearer(people["admin"]))
    assert reopened.status_code == 200
    answer = reopened.get_json()
    assert answer["votes_unlinked_at"] is not None
    assert [w["code"] for w in answer["warnings"]] == ["votes_unlinked"]
    again = client.post(f"{FEATURES}/{feature}/vote", headers=bearer(people["neighbour"]))  # would be a 2nd vote
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "votes_unlinked"
    assert "vote retention" in again.get_json()["error"]["message"]
    withdraw = client.delete(f"{FEATURES}/{feature}/vote", headers=bearer(people["neighbour"]))
    assert withdraw.status_code == 403 and withdraw.get_json()["error"]["code"] == "votes_unlinked"
    assert client.get(f"{FEATURES}/{feature}").get_json()["properties"]["vote_count"] == 1
    # New pins may still come in while the window is open.
    assert client.post(FEATURES, json=pin(300.0), headers=bearer(people["resident"])).status_code == 201

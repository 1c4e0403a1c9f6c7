"""An embedded map on another site logs in through a first-party popup that hands the frame its own token."""

from __future__ import annotations

from datetime import timedelta

from mapsvc.services.accounts import EMBED_TOKEN_HOURS, EMBED_TOKEN_PREFIX
from mapsvc.storage.models import ApiToken
from tests.web.conftest import bearer, csrf_of, login, pin


def frame_token(client) -> str:
    answer = client.post("/api/embed-token", headers={"X-CSRFToken": csrf_of(client)})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["expires_in"] == EMBED_TOKEN_HOURS * 3600
    return answer.get_json()["token"]


def test_the_popup_sends_anonymous_visitors_to_the_login_form(client, people):
    answer = client.get("/login/embedded")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login?next=/login/embedded"
    login(client, people["resident"].email)
    page = client.get("/login/embedded").get_data(as_text=True)
    assert "embed_login.js" in page and 'name="csrf-token"' in page


def test_a_logged_in_browser_gets_a_frame_token_that_works_as_bearer(app, client, db, people):
    assert client.post("/api/embed-token").status_code == 401                     # nobody logged in
    login(client, people["resident"].email)
    refused = client.post("/api/embed-token")                                      # a cookie write without CSRF
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    token = frame_token(client)
    assert token.startswith(EMBED_TOKEN_PREFIX)

    frame = app.test_client()                                                      # no cookie, as in the frame
    headers = {"Authorization": f"Bearer {token}"}
    assert frame.get("/api/me", headers=headers).get_json()["user"]["id"] == people["resident"].user_id
    made = frame.post("/api/platforms/testdorp/layers/unpaving-spots/features", json=pin(), headers=headers)
    assert made.status_code == 201
    voted = frame.post(f"/api/platforms/testdorp/layers/unpaving-spots/features/{made.get_json()['id']}/vote",
                       headers=headers)
    assert voted.status_code == 201 and voted.get_json()["vote_count"] == 1

    again = frame.post("/api/embed-token", headers=headers)                        # a token cannot mint tokens
    assert again.status_code == 400 and again.get_json()["error"]["code"] == "session_required"

    assert frame.delete("/api/embed-token", headers=headers).status_code == 204    # the frame logs out
    gone = frame.get("/api/me", headers=headers)
    assert gone.status_code == 401 and gone.get_json()["error"]["code"] == "invalid_token"


def test_a_frame_token_expires(app, client, db, people):
    login(client, people["resident"].email)
    token = frame_token(client)
    with db.transaction() as session:
        for row in session.query(ApiToken).filter_by(user_id=people["resident"].user_id):
            row.created_at = row.created_at - timedelta(hours=EMBED_TOKEN_HOURS, minutes=1)
    answer = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


def test_logging_out_a_frame_needs_its_token(client, people):
    answer = client.delete("/api/embed-token", headers=bearer(people["resident"]))  # a personal token
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "embed_token_required"

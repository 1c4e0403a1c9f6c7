"""Logging in, sessions, CSRF, API tokens, rate limits and the users command, on both backends."""

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from mapsvc.cli import main
from tests.web.conftest import PASSWORD, bearer, csrf_of, login, pin

FEATURES = "/api/platforms/testdorp/layers/unpaving-spots/features"


def test_login_sets_a_session_and_me_shows_it(client, people):
    assert client.get("/api/me").get_json() == {"user": None}
    response = login(client, people["neighbour"].email)
    assert response.status_code == 302
    me = client.get("/api/me").get_json()
    assert me["user"]["id"] == people["neighbour"].user_id and me["user"]["display_name"] == "Neighbour"
    assert "email" not in me["user"]


def test_wrong_password_is_refused_in_dutch(client, people):
    response = login(client, people["resident"].email, "wrong password!")
    assert response.status_code == 401
    assert "passen niet bij elkaar" in response.get_data(as_text=True)
    assert client.get("/api/me").get_json() == {"user": None}


def test_unknown_email_gets_the_same_answer(client, people):
    response = login(client, "nobody@testdorp.example")
    assert response.status_code == 401 and "passen niet bij elkaar" in response.get_data(as_text=True)


def test_login_form_without_csrf_token_is_refused(client, people):
    response = client.post("/login", data={"email": people["resident"].email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/api/me").get_json() == {"user": None}


@pytest.mark.parametrize("target, expected", [
    ("/p/testdorp", "/p/testdorp"), ("https://evil.example/", "/"), ("//evil.example", "/"), ("evil", "/"),
])
def test_login_redirects_only_within_the_site(client, people, target, expected):
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": people["resident"].email, "password": PASSWORD,
                                           "csrf_token": token, "next": target})
    assert response.headers["Location"] == expected


def test_logout_ends_the_session(client, people):
    login(client, people["resident"].email)
    client.post("/logout", headers={"X-CSRFToken": csrf_of(client)})
    assert client.get("/api/me").get_json() == {"user": None}


def test_cookie_writes_need_the_csrf_header(client, people):
    login(client, people["resident"].email)
    refused = client.post(FEATURES, json=pin())
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    accepted = client.post(FEATURES, json=pin(), headers={"X-CSRFToken": csrf_of(client)})
    assert accepted.status_code == 201


def test_token_writes_need_no_csrf(client, people):
    assert client.post(FEATURES, json=pin(), headers=bearer(people["resident"])).status_code == 201


def test_unknown_token_is_401(client, people):
    response = client.post(FEATURES, json=pin(), headers={"Authorization": "Bearer mapsvc_forged"})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_token"


def test_anonymous_write_is_401(client, people):
    response = client.post(FEATURES, json=pin())
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "login_required"


def test_cookies_are_httponly_samesite_and_secure_outside_development(make_app, people):
    client = make_app(DEVELOPMENT=False).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # Secure cookies only travel over HTTPS
    response = login(client, people["resident"].email)
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_login_is_rate_limited(make_app, people):
    client = make_app(RATE_LIMIT_LOGIN="3 per minute").test_client()
    statuses = [login(client, people["resident"].email, "wrong password!").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_pin_writes_are_rate_limited_per_person(make_app, people):
    client = make_app(RATE_LIMIT_PINS="2 per hour").test_client()
    statuses = [client.post(FEATURES + "?allow_nearby=true", json=pin(i * 100.0), headers=bearer(people["resident"]))
                .status_code for i in range(3)]
    assert statuses == [201, 201, 429]
    error = client.post(FEATURES, json=pin(500.0), headers=bearer(people["resident"])).get_json()["error"]
    assert error["code"] == "too_many_requests"
    # another person has their own allowance
    assert client.post(FEATURES, json=pin(900.0), headers=bearer(people["neighbour"])).status_code == 201


def test_users_command(app, testdorp):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    created = run("users", "create", "an@testdorp.example", "--password", "long enough pw", "--role", "official",
                  "--platform", "testdorp")
    assert created.exit_code == 0 and "as official of testdorp" in created.output
    assert run("users", "create", "an@testdorp.example", "--password", "long enough pw").exit_code == 1
    short = run("users", "create", "bo@testdorp.example", "--password", "short")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    bad_scope = run("users", "grant", "an@testdorp.example", "initiative_manager", "testdorp")
    assert bad_scope.exit_code == 1 and "one layer" in bad_scope.output
    token = run("users", "token", "an@testdorp.example").output.strip()
    assert token.startswith("mapsvc_")
    me = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["user"]["roles"][0]["role"] == "official"
    assert run("users", "token", "nobody@testdorp.example").exit_code == 1

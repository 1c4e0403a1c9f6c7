"""Government login: OpenID Connect against a real provider (Authlib's server side) on 127.0.0.1.

The browser's part runs through the Flask test client (mapsvc) and `requests` (the provider's authorize
endpoint); mapsvc itself talks to the provider over HTTP for discovery, the token and the keys.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import text as sql

from mapsvc.cli import main
from mapsvc.services import oidc
from mapsvc.services.sample import SamplePlatform, create_platform
from mapsvc.storage.models import OidcIdentity, Platform, User, utcnow
from tests.support.oidc_provider import OidcProvider, Person
from tests.web.conftest import BOUNDARY, bearer, csrf_of, login, pin

JSON = {"Accept": "application/json"}
LAYER = "/api/platforms/testdorp/layers/unpaving-spots"


@pytest.fixture
def provider():
    """A running OpenID Connect provider whose test person logs in at once."""
    running = OidcProvider()
    yield running
    running.close()


@pytest.fixture
def configured(db, provider):
    """The provider set up for the whole instance, as `mapsvc oidc set` does."""
    with db.transaction() as session:
        oidc.set_provider(session, provider.issuer, provider.client.client_id, provider.client.client_secret,
                          label="Vlaanderen")


def to_callback(client, **query):
    """Start a login at mapsvc and pass the provider; return the callback URL the provider sends back to."""
    started = client.get("/login/oidc", query_string=query)
    assert started.status_code == 302, started.get_data(as_text=True)
    answer = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/login/oidc/callback"
    return f"{back.path}?{back.query}"


def oidc_login(client, **query):
    """Log in through the provider; return mapsvc's answer to the callback."""
    return client.get(to_callback(client, **query), headers=JSON)


def with_params(url: str, **changes) -> str:
    parts = urlsplit(url)
    values = {k: v[0] for k, v in parse_qs(parts.query).items()}
    values.update(changes)
    values = {k: v for k, v in values.items() if v is not None}
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in values.items())


def error_of(answer) -> str:
    return answer.get_json()["error"]["code"]


def me(client) -> dict | None:
    return client.get("/api/me").get_json()["user"]


def test_the_authorization_request_uses_discovery_pkce_and_only_openid_profile(client, provider, configured):
    started = client.get("/login/oidc")
    assert started.status_code == 302
    location = urlsplit(started.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == provider.discovery()["authorization_endpoint"]
    asked = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert asked["response_type"] == "code" and asked["client_id"] == provider.client.client_id
    assert asked["scope"] == "openid profile"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32 and asked["state"] != asked["nonce"]
    assert asked["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert not {"rrn", "egovnrn"} & set(" ".join(asked.values()).replace("+", " ").split())
    assert "code_verifier" not in asked  # the verifier stays with mapsvc; only its hash travels


def test_first_login_makes_an_account_and_the_second_finds_it(app, client, db, provider, configured):
    provider.person = Person(sub="sub-anna-0001", acr="substantial")
    answer = oidc_login(client, next="/p/testdorp")
    assert answer.status_code == 302 and answer.headers["Location"] == "/p/testdorp"
    first = me(client)
    assert first is not None and first["display_name"] is None
    with client.session_transaction() as cookie:
        assert cookie["user_id"] == first["id"] and cookie["acr"] == "substantial"
        assert cookie["acr_issuer"] == provider.issuer and cookie["user_since"]

    with db.sessions() as session:
        user = session.get(User, first["id"])
        assert (user.email, user.password_hash, user.display_name) == (None, None, None)
        identities = session.query(OidcIdentity).all()
        assert [(i.user_id, i.issuer) for i in identities] == [(first["id"], provider.issuer)]
        expected = hmac.new(app.config["MAPSVC"]["SECRET_KEY"].encode(), b"sub-anna-0001", hashlib.sha256).hexdigest()
        assert identities[0].subject_hash == expected
        # Neither the subject nor the profile's name is stored anywhere in these tables.
        rows = [*session.execute(sql("SELECT * FROM oidc_identities")), *session.execute(sql("SELECT * FROM users"))]
        stored = " ".join(str(value) for row in rows for value in row)
        assert "sub-anna-0001" not in stored and "Peeters" not in stored

    other = app.test_client()  # another browser, the same person
    assert oidc_login(other).status_code == 302
    assert me(other)["id"] == first["id"]
    with db.sessions() as session:
        assert session.query(OidcIdentity).count() == 1 and session.query(User).count() == 1


def test_a_local_account_links_the_identity_and_a_taken_identity_is_refused(app, client, db, provider, configured,
                                                                            people):
    provider.person = Person(sub="sub-resident", acr="high")
    separate = app.test_client()
    assert oidc_login(separate).status_code == 302  # without linking: an account of its own
    assert me(separate)["id"] not in {p.user_id for p in people.values()}

    login(client, people["resident"].email)
    provider.person = Person(sub="sub-resident-2", acr="high")
    linked = oidc_login(client, link="1")
    assert linked.status_code == 302 and me(client)["id"] == people["resident"].user_id
    with client.session_transaction() as cookie:
        assert cookie["acr"] == "high"
    with db.sessions() as session:
        assert session.query(OidcIdentity).filter_by(user_id=people["resident"].user_id).count() == 1

    again = app.test_client()  # logging in with that identity now finds the resident's account
    assert oidc_login(again).status_code == 302 and me(again)["id"] == people["resident"].user_id

    neighbour = app.test_client()
    login(neighbour, people["neighbour"].email)
    refused = oidc_login(neighbour, link="1")  # the same identity, already the resident's
    assert refused.status_code == 409 and error_of(refused) == "oidc_identity_taken"
    assert me(neighbour)["id"] == people["neighbour"].user_id

    anonymous = app.test_client().get("/login/oidc?link=1", headers=JSON)
    assert anonymous.status_code == 401 and error_of(anonymous) == "oidc_link_needs_login"


def test_logout_clears_the_session_and_ends_the_provider_session(app, client, provider, configured, people):
    provider.person = Person(sub="sub-logout", acr="high")
    assert oidc_login(client).status_code == 302
    out = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert out.status_code == 302
    ending = urlsplit(out.headers["Location"])
    assert f"{ending.scheme}://{ending.netloc}{ending.path}" == provider.discovery()["end_session_endpoint"]
    assert parse_qs(ending.query) == {"client_id": [provider.client.client_id],
                                      "post_logout_redirect_uri": ["http://localhost/"]}
    assert me(client) is None
    with client.session_transaction() as cookie:
        assert "acr" not in cookie and "user_id" not in cookie
    back = requests.get(out.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"] == "http://localhost/"
    assert len(provider.logouts) == 1

    local = app.test_client()  # a local login's logout stays local
    login(local, people["resident"].email)
    assert local.post("/logout", data={"csrf_token": csrf_of(local)}).headers["Location"] == "/"


def test_a_wrong_missing_or_reused_state_is_refused(client, provider, configured):
    callback = to_callback(client)
    wrong = client.get(with_params(callback, state="forged-state"), headers=JSON)
    assert wrong.status_code == 400 and error_of(wrong) == "oidc_state_mismatch"
    missing = client.get(with_params(callback, state=None), headers=JSON)
    assert missing.status_code == 400 and error_of(missing) == "oidc_state_mismatch"
    assert me(client) is None
    assert client.get(callback, headers=JSON).status_code == 302  # the genuine answer still works, once
    replayed = client.get(callback)
    assert replayed.status_code == 400
    assert "Deze inlogpoging is niet (meer) geldig" in replayed.get_data(as_text=True)  # a page, in Dutch


def test_the_provider_refusing_is_a_401(client, provider, configured):
    provider.refuse = True
    answer = oidc_login(client)
    assert answer.status_code == 401 and error_of(answer) == "oidc_provider_error"
    assert answer.get_json()["error"]["details"]["provider_error"] == "access_denied"
    assert me(client) is None


def test_an_expired_or_replayed_code_is_refused(client, db, provider, configured):
    provider.code_lifetime = -1  # every code has expired by the time it is exchanged
    expired = oidc_login(client)
    assert expired.status_code == 401 and error_of(expired) == "oidc_code_rejected"
    assert me(client) is None

    provider.code_lifetime = 600
    first = to_callback(client)
    assert client.get(first, headers=JSON).status_code == 302
    used_code = parse_qs(urlsplit(first).query)["code"][0]
    second = to_callback(client)  # a fresh login whose answer carries the used code instead of its own
    replayed = client.get(with_params(second, code=used_code), headers=JSON)
    assert replayed.status_code == 401 and error_of(replayed) == "oidc_code_rejected"


@pytest.mark.parametrize("rogue", ["same_kid", "unknown_kid"])
def test_an_id_token_signed_with_a_key_not_in_the_jwks_is_refused(client, db, provider, configured, rogue):
    provider.rogue_key = rogue
    answer = oidc_login(client)
    assert answer.status_code == 401 and error_of(answer) == "oidc_invalid_token"
    assert me(client) is None
    with db.sessions() as session:
        assert session.query(OidcIdentity).count() == 0 and session.query(User).count() == 0


@pytest.mark.parametrize("claim, value", [("issuer_claim", "https://evil.example"), ("audience_claim", "someone-else")])
def test_an_id_token_for_another_issuer_or_audience_is_refused(client, provider, configured, claim, value):
    setattr(provider, claim, value)
    answer = oidc_login(client)
    assert answer.status_code == 401 and error_of(answer) == "oidc_invalid_token"
    assert ("iss" if claim == "issuer_claim" else "aud") in answer.get_json()["error"]["details"]["reason"]
    assert me(client) is None


def test_voting_needs_the_platforms_assurance_level(app, client, db, provider, configured, people):
    admin = bearer(people["admin"])
    for bad in ("high", ["x"] * 11, [""], [3]):
        refused = client.patch("/api/platforms/testdorp", json={"voting_acr_values": bad}, headers=admin)
        assert refused.status_code == 400 and error_of(refused) == "invalid_acr_values"
    forbidden = client.patch("/api/platforms/testdorp", json={"voting_acr_values": ["high"]},
                             headers=bearer(people["resident"]))
    assert forbidden.status_code == 403
    done = client.patch("/api/platforms/testdorp", json={"voting_acr_values": ["substantial", "high"]}, headers=admin)
    assert done.status_code == 200 and done.get_json()["voting_acr_values"] == ["substantial", "high"]
    spots = [client.post(f"{LAYER}/features", json=pin(i * 200.0), headers=bearer(people["resident"])).get_json()["id"]
             for i in range(3)]

    provider.person = Person(sub="sub-low", acr="low")
    low = app.test_client()
    assert oidc_login(low).status_code == 302
    refused = low.post(f"{LAYER}/features/{spots[0]}/vote", headers={"X-CSRFToken": csrf_of(low)})
    assert refused.status_code == 403 and error_of(refused) == "assurance_level_required"
    assert "government login" in refused.get_json()["error"]["message"]
    local = client.post(f"{LAYER}/features/{spots[0]}/vote", headers=bearer(people["neighbour"]))
    assert local.status_code == 403 and error_of(local) == "assurance_level_required"

    provider.person = Person(sub="sub-high", acr="high")
    high = app.test_client()
    assert oidc_login(high).status_code == 302
    voted = high.post(f"{LAYER}/features/{spots[0]}/vote", headers={"X-CSRFToken": csrf_of(high)})
    assert voted.status_code == 201 and voted.get_json()["vote_count"] == 1

    # An embedded map's token carries the assurance level of the session it came from.
    for session_client, status in ((high, 201), (low, 403)):
        minted = session_client.post("/api/embed-token", headers={"X-CSRFToken": csrf_of(session_client)})
        frame = {"Authorization": f"Bearer {minted.get_json()['token']}"}
        assert app.test_client().post(f"{LAYER}/features/{spots[1]}/vote", headers=frame).status_code == status

    assert client.patch("/api/platforms/testdorp", json={"voting_acr_values": []}, headers=admin).status_code == 200
    assert client.post(f"{LAYER}/features/{spots[2]}/vote", headers=bearer(people["neighbour"])).status_code == 201


def test_the_login_page_offers_the_instance_and_the_platform_login(make_app, client, db, provider, configured,
                                                                   testdorp):
    with db.transaction() as session:
        oidc.set_provider(session, provider.issuer, "testdorp-client", None, platform_slug="testdorp",
                          label="Testdorp ID")
    page = client.get("/login").get_data(as_text=True)
    assert "Inloggen met Vlaanderen" in page and "Testdorp ID" not in page
    page = client.get("/login?next=/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert "Inloggen met Vlaanderen" in page and "Inloggen met Testdorp ID" in page
    assert "/login/oidc?platform=testdorp&amp;next=/p/testdorp/unpaving-spots" in page
    assert "Se connecter avec Vlaanderen" in client.get("/login?lang=fr").get_data(as_text=True)
    assert "Log in with Vlaanderen" in client.get("/login?lang=en").get_data(as_text=True)

    started = client.get("/login/oidc?platform=testdorp")
    assert parse_qs(urlsplit(started.headers["Location"]).query)["client_id"] == ["testdorp-client"]
    unknown = client.get("/login/oidc?platform=nowhere", headers=JSON)
    assert unknown.status_code == 404
    typo = client.get("/login/oidc?platfrom=testdorp", headers=JSON)
    assert typo.status_code == 400 and error_of(typo) == "unknown_parameter"

    # The instance's login may also come from settings (MAPSVC_OIDC_*) instead of the database.
    with db.transaction() as session:
        oidc.remove_provider(session)
    from_settings = make_app(OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID=provider.client.client_id,
                             OIDC_CLIENT_SECRET=provider.client.client_secret, OIDC_LABEL="Vlaanderen (instelling)")
    browser = from_settings.test_client()
    assert "Inloggen met Vlaanderen (instelling)" in browser.get("/login").get_data(as_text=True)
    assert oidc_login(browser).status_code == 302 and me(browser) is not None


def test_without_a_provider_or_with_one_that_is_down(client, db):
    missing = client.get("/login/oidc", headers=JSON)
    assert missing.status_code == 404 and error_of(missing) == "oidc_not_configured"
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with db.transaction() as session:
        oidc.set_provider(session, f"http://127.0.0.1:{port}", "mapsvc", None)
    down = client.get("/login/oidc", headers=JSON)
    assert down.status_code == 502 and error_of(down) == "oidc_provider_unavailable"
    assert "Inloggen met 127.0.0.1" in client.get("/login").get_data(as_text=True)


def test_the_oidc_commands(app, provider, testdorp):
    def run(*args):
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    made = run("oidc", "set", "--issuer", provider.issuer, "--client-id", "mapsvc", "--client-secret", "geheim",
               "--label", "Vlaanderen")
    assert made.exit_code == 0 and "Found the provider" in made.output and "/login/oidc/callback" in made.output
    assert run("oidc", "set", "--issuer", provider.issuer, "--client-id", "dorp", "--platform", "testdorp").exit_code == 0
    listed = run("oidc", "list")
    assert listed.exit_code == 0 and "geheim" not in listed.output
    assert "instance\tVlaanderen" in listed.output and "platform testdorp\t127.0.0.1" in listed.output
    bad = run("oidc", "set", "--issuer", "ftp://login.example", "--client-id", "x")
    assert bad.exit_code == 1 and "is not an issuer URL" in bad.output
    for plain in ("http://login.example", "http://10.0.0.5/op"):  # plain http only on this machine
        refused = run("oidc", "set", "--issuer", plain, "--client-id", "x", "--no-check")
        assert refused.exit_code == 1 and "is not an issuer URL" in refused.output, plain
    unknown_platform = run("oidc", "set", "--issuer", provider.issuer, "--client-id", "x", "--platform", "nowhere")
    assert unknown_platform.exit_code == 1
    assert run("oidc", "remove", "--platform", "testdorp").exit_code == 0
    gone = run("oidc", "remove", "--platform", "testdorp")
    assert gone.exit_code == 1 and "No OpenID Connect provider" in gone.output
    assert "platform testdorp" not in run("oidc", "list").output


@pytest.mark.parametrize("switch, value, reason", [
    ("nonce_claim", "forged-nonce", "nonce"),
    ("expired_by", 3600, "exp"),        # an hour past: far beyond the 60 seconds of leeway
    ("signing_alg", "none", "unsupported_algorithm"),   # unsigned
    ("signing_alg", "HS256", "unsupported_algorithm"),  # signed with the client secret, not a published key
])
def test_a_tampered_id_token_is_refused(client, db, provider, configured, switch, value, reason):
    setattr(provider, switch, value)
    answer = oidc_login(client)
    assert answer.status_code == 401 and error_of(answer) == "oidc_invalid_token", answer.get_json()
    assert reason in answer.get_json()["error"]["details"]["reason"]
    assert me(client) is None
    with db.sessions() as session:
        assert session.query(OidcIdentity).count() == 0 and session.query(User).count() == 0


def test_a_replayed_id_token_is_refused(app, client, db, provider, configured):
    provider.person = Person(sub="sub-replayed", acr="high")
    earlier = app.test_client()
    assert oidc_login(earlier).status_code == 302          # its ID token is genuine and still unexpired
    provider.replay_id_token = True                          # a later login receives that token again
    answer = oidc_login(client)
    assert answer.status_code == 401 and error_of(answer) == "oidc_invalid_token"
    assert "nonce" in answer.get_json()["error"]["details"]["reason"]
    assert me(client) is None
    with db.sessions() as session:
        assert session.query(User).count() == 1                # only the earlier, genuine login's account


def test_a_discovery_document_naming_another_issuer_is_refused(app, client, provider, configured):
    provider.discovery_issuer = "https://login.elsewhere.example"
    answer = client.get("/login/oidc", headers=JSON)
    assert answer.status_code == 502 and error_of(answer) == "oidc_provider_unavailable"
    assert "login.elsewhere.example" in answer.get_json()["error"]["message"]
    assert "Location" not in answer.headers
    checked = CliRunner().invoke(main, ["oidc", "set", "--issuer", provider.issuer, "--client-id", "x"],
                                 obj=ScriptInfo(create_app=lambda: app))
    assert checked.exit_code == 1 and "login.elsewhere.example" in checked.output


def _platform_with_open_layer(db, slug: str) -> None:
    spec = SamplePlatform(slug, "99998", "municipality", (slug.capitalize(), slug, slug), 13, ("#123456", "#ffffff"),
                          {"unpaving-spots": 0})
    with db.transaction() as session:
        platform = create_platform(session, spec, BOUNDARY)
        now = utcnow()
        for layer in platform.layers:
            layer.opens_at, layer.closes_at = now - timedelta(days=1), now + timedelta(days=30)


def _vote_urls(client, layer: str, author: dict, count: int = 3) -> list[str]:
    """Drop `count` pins on a layer; return their vote URLs."""
    made = [client.post(f"{layer}/features", json=pin(i * 200.0), headers=author) for i in range(count)]
    assert all(m.status_code == 201 for m in made)
    return [f"{layer}/features/{m.get_json()['id']}/vote" for m in made]


def test_an_acr_counts_only_on_the_platforms_its_provider_serves(app, client, db, provider, configured, people):
    own = OidcProvider()  # anderdorp's own login, beside the instance's
    try:
        _platform_with_open_layer(db, "anderdorp")
        with db.transaction() as session:
            oidc.set_provider(session, own.issuer, own.client.client_id, own.client.client_secret,
                              platform_slug="anderdorp", label="Anderdorp ID")
            for platform in session.query(Platform):
                platform.voting_acr_values = ["high"]
        here = _vote_urls(client, LAYER, bearer(people["resident"]))
        there = _vote_urls(client, "/api/platforms/anderdorp/layers/unpaving-spots", bearer(people["resident"]))

        own.person = Person(sub="sub-anderdorp", acr="high")
        browser = app.test_client()
        assert oidc_login(browser, platform="anderdorp").status_code == 302
        csrf = {"X-CSRFToken": csrf_of(browser)}
        refused = browser.post(here[0], headers=csrf)  # the same acr value, vouched for by another platform's login
        assert refused.status_code == 403 and error_of(refused) == "assurance_level_required"
        assert browser.post(there[0], headers=csrf).status_code == 201

        # An embedded map's token keeps the issuer beside the acr.
        frame = {"Authorization": f"Bearer {browser.post('/api/embed-token', headers=csrf).get_json()['token']}"}
        assert app.test_client().post(here[1], headers=frame).status_code == 403
        assert app.test_client().post(there[1], headers=frame).status_code == 201

        provider.person = Person(sub="sub-instance", acr="high")  # the instance's login counts everywhere
        everywhere = app.test_client()
        assert oidc_login(everywhere).status_code == 302
        csrf = {"X-CSRFToken": csrf_of(everywhere)}
        assert everywhere.post(here[2], headers=csrf).status_code == 201
        assert everywhere.post(there[2], headers=csrf).status_code == 201

        with db.transaction() as session:  # the platform's provider replaced: its earlier logins count no more
            oidc.set_provider(session, provider.issuer, "anderdorp-new", None, platform_slug="anderdorp")
        stale = browser.post(there[2], headers={"X-CSRFToken": csrf_of(browser)})
        assert stale.status_code == 403 and error_of(stale) == "assurance_level_required"
    finally:
        own.close()


def test_the_subject_key_survives_a_new_secret_key(make_app, db, provider, configured):
    provider.person = Person(sub="sub-rotation")
    before = make_app(SECRET_KEY="session-key-2025", OIDC_SUBJECT_KEY="subject-key-for-tests").test_client()
    assert oidc_login(before).status_code == 302
    account = me(before)["id"]
    with db.sessions() as session:
        stored = session.query(OidcIdentity).one().subject_hash
    assert stored == hmac.new(b"subject-key-for-tests", b"sub-rotation", hashlib.sha256).hexdigest()

    rotated = make_app(SECRET_KEY="session-key-2026", OIDC_SUBJECT_KEY="subject-key-for-tests")
    after = rotated.test_client()
    assert me(after) is None
    assert oidc_login(after).status_code == 302 and me(after)["id"] == account   # the same account

    without = make_app(SECRET_KEY="session-key-2026").test_client()  # hashed with SECRET_KEY: not found
    assert oidc_login(without).status_code == 302 and me(without)["id"] != account

"""Following and update e-mails, end to end: the HTTP API and pages, the mail queue, the worker and a real SMTP
server (aiosmtpd on 127.0.0.1), on both databases."""

from __future__ import annotations

import re
from html import unescape
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from mapsvc.errors import BadRequest
from mapsvc.services import following, notify
from mapsvc.services.following_mail import FOLLOW, UNSUBSCRIBE_MAX_AGE, UNSUBSCRIBE_SALT, account_stamp, make_token
from mapsvc.services.mail_sender import SmtpTransport, mail_settings
from mapsvc.services.mail_worker import send_due
from mapsvc.storage.models import Feature, Follow, OutgoingMail, User, utcnow
from tests.support.smtp_server import RecordingHandler, smtp_server
from tests.web.conftest import bearer, csrf_of, login, pin

PUBLIC = "https://kaart.testdorp.example"
LAYER = "/api/platforms/testdorp/layers/unpaving-spots"


@pytest.fixture
def app(make_app):
    """The app, with a public address for the links in e-mails."""
    return make_app(PUBLIC_URL=PUBLIC)


@pytest.fixture
def smtp():
    """A real SMTP server that records every message it accepts: (handler, port)."""
    handler = RecordingHandler()
    with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture
def residents(db, people):
    """The resident writes in Dutch, the neighbour in French; plus an account without e-mail (OIDC only)."""
    with db.transaction() as session:
        session.get(User, people["neighbour"].user_id).locale = "fr"
        session.get(User, people["resident"].user_id).locale = "nl"
        oidc_only = User(email=None, locale="en", is_active=True)
        session.add(oidc_only)
        session.flush()
        return oidc_only.id


def deliver(db, port) -> None:
    """Run the mail worker once against the test's SMTP server."""
    settings = mail_settings({"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TLS": "none",
                              "MAIL_FROM": "Testdorp <participatie@testdorp.example>", "SMTP_TIMEOUT": 5,
                              "MAIL_MAX_ATTEMPTS": 3, "MAIL_BACKOFF_SECONDS": 60})
    transport = SmtpTransport(settings)
    try:
        report = send_due(db, settings, transport)
    finally:
        transport.close()
    assert report.failed == 0 and report.retried == 0


def inbox(handler) -> dict[str, list]:
    """The accepted messages by recipient."""
    found: dict[str, list] = {}
    for _sender, recipients, message in handler.received:
        for recipient in recipients:
            found.setdefault(recipient, []).append(message)
    return found


def plain(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def drop_pin(client, person, offset_m: float, title: str) -> int:
    answer = client.post(f"{LAYER}/features", json=pin(offset_m, title=title), headers=bearer(person))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def set_status(client, official, feature_id: int, status: str, answer: str | None = None):
    body = {"status": status} | ({"official_answer": answer} if answer else {})
    return client.post(f"{LAYER}/features/{feature_id}/status", json=body, headers=bearer(official))


def test_nobody_gets_mail_without_opting_in(client, db, people, residents, smtp):
    handler, port = smtp
    with db.transaction() as session:  # an author who switched off mail about their own pins
        session.get(User, people["resident"].user_id).own_pin_updates = False
    spot = drop_pin(client, people["resident"], 0, "Tegels weg aan de kerk")
    client.post(f"{LAYER}/features/{spot}/vote", headers=bearer(people["neighbour"]))  # contributing is no opt-in
    assert set_status(client, people["official"], spot, "rejected", "Hier ligt een nutsleiding.").status_code == 200
    platform_wide = {"subject": "Infoavond", "body": "Kom naar de infoavond."}
    preview = client.post("/api/platforms/testdorp/announcements/preview", json=platform_wide,
                          headers=bearer(people["official"]))
    assert preview.status_code == 200 and preview.get_json()["recipient_count"] == 0
    assert client.post("/api/platforms/testdorp/announcements", json=platform_wide,
                       headers=bearer(people["official"])).get_json()["recipient_count"] == 0
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    deliver(db, port)
    assert handler.received == []


def test_following_a_layer_and_a_pin_through_the_api(client, people, residents):
    resident = bearer(people["resident"])
    assert client.get("/api/me/follows").status_code == 401
    assert client.get("/api/me/follows", headers=resident).get_json() == {
        "weekly_digest": False, "own_pin_updates": True, "follows": []}
    first = client.post(f"{LAYER}/follow", headers=resident)
    assert first.status_code == 201 and first.get_json()["following"] is True
    assert client.post(f"{LAYER}/follow", headers=resident).status_code == 200  # twice: still one follow
    spot = drop_pin(client, people["neighbour"], 0, "Boom aan het plein")
    assert client.post(f"{LAYER}/features/{spot}/follow", headers=resident).status_code == 201
    assert client.post(f"{LAYER}/features/999999/follow", headers=resident).status_code == 404
    listed = client.get("/api/me/follows?lang=en", headers=resident).get_json()["follows"]
    assert [(f["layer"], f["feature"], f["theme"]) for f in listed] == [("unpaving-spots", None, None),
                                                                         ("unpaving-spots", spot, None)]
    assert listed[0]["label"] == "the map “Unpaving and greening” of Test village"
    assert client.delete(f"{LAYER}/features/{spot}/follow", headers=resident).get_json()["following"] is False

    put = client.put("/api/me/follows", headers=resident, json={
        "weekly_digest": True, "follows": [{"platform": "testdorp", "theme": "vergroenen"},
                                           {"platform": "testdorp", "layer": "unpaving-spots"}]})
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["weekly_digest"] is True
    assert {(f["layer"], f["theme"]) for f in put.get_json()["follows"]} == {("unpaving-spots", None),
                                                                             (None, "vergroenen")}
    assert put.get_json()["follows"][0]["id"] == listed[0]["id"]  # a kept follow keeps its id (old links work)
    bad = client.put("/api/me/follows", headers=resident, json={"follows": [{"platform": "testdorp",
                                                                             "theme": "zwembaden"}]})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "unknown_theme"
    assert "vergroenen" in bad.get_json()["error"]["message"]  # says which themes exist
    both = client.put("/api/me/follows", headers=resident, json={"follows": [
        {"platform": "testdorp", "layer": "unpaving-spots", "theme": "vergroenen"}]})
    assert both.status_code == 400 and both.get_json()["error"]["code"] == "invalid_follow"
    assert client.put("/api/me/follows", headers=resident, json={"colour": "red"}).status_code == 400
    assert len(client.get("/api/me/follows", headers=resident).get_json()["follows"]) == 2  # refused: unchanged


def test_a_status_change_mails_author_and_follower_in_their_language(client, db, people, residents, smtp):
    handler, port = smtp
    resident, neighbour = people["resident"], people["neighbour"]
    spot = drop_pin(client, resident, 0, "Speelplaats ontharden")
    client.post(f"{LAYER}/follow", headers=bearer(neighbour))  # the French-speaking neighbour follows the layer
    client.post(f"{LAYER}/follow", headers=bearer(people["moderator"]))
    with db.transaction() as session:  # a follower without e-mail is skipped
        session.add(Follow(user_id=residents, platform_id=_platform_id(session),
                           layer_id=session.get(Feature, spot).layer_id, created_at=utcnow()))
    assert set_status(client, people["official"], spot, "under_review").status_code == 200  # no mail for this step
    changed = set_status(client, people["official"], spot, "rejected", "Er loopt een gasleiding onder.")
    assert changed.status_code == 200, changed.get_json()
    deliver(db, port)

    mails = inbox(handler)
    assert sorted(mails) == sorted([resident.email, neighbour.email, people["moderator"].email])
    assert all(len(received) == 1 for received in mails.values())
    (to_author,), (to_follower,) = mails[resident.email], mails[neighbour.email]
    assert to_author["Subject"] == "Testdorp: je voorstel „Speelplaats ontharden” is niet weerhouden"
    assert "Er loopt een gasleiding onder." in plain(to_author)
    assert "omdat je dit voorstel zelf indiende" in plain(to_author)
    assert f"{PUBLIC}/p/testdorp/unpaving-spots" in plain(to_author)
    assert to_follower["Subject"] == "Village-test : « Speelplaats ontharden » est non retenue"
    assert "Réponse de la commune" in plain(to_follower) and "Er loopt een gasleiding onder." in plain(to_follower)
    assert "parce que vous suivez la carte « Désimperméabiliser et verdir » de Village-test" in plain(to_follower)
    for message in (to_author, to_follower):
        assert message["List-Unsubscribe"].startswith(f"<{PUBLIC}/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.get_body(preferencelist=("html",)) is not None
        assert "@" not in plain(message).split("—")[0]  # no addresses in the text (only the recipient's own header)

    with db.transaction() as session:  # the same event again (a retried request): nobody is mailed twice
        feature = session.get(Feature, spot)
        assert notify.status_changed(session, feature, "under_review", now=utcnow()) == 0
    deliver(db, port)
    assert sum(len(m) for m in inbox(handler).values()) == 3


def _platform_id(session) -> int:
    from mapsvc.storage.models import Platform

    return session.scalar(select(Platform.id).where(Platform.slug == "testdorp"))


def test_status_changed_called_by_a_service_follows_the_pin_s_followers(client, db, people, residents, smtp):
    """notify.status_changed as the moderation service calls it, inside its own transaction."""
    handler, port = smtp
    spot = drop_pin(client, people["resident"], 0, "Parking vergroenen")
    client.post(f"{LAYER}/features/{spot}/follow", headers=bearer(people["neighbour"]))
    with db.transaction() as session:
        session.get(User, people["resident"].user_id).own_pin_updates = False
        feature = session.get(Feature, spot)
        feature.status = "selected"
        assert notify.status_changed(session, feature, "under_review", now=utcnow()) == 1
    deliver(db, port)
    (message,) = inbox(handler)[people["neighbour"].email]
    assert message["Subject"] == "Village-test : « Parking vergroenen » est retenue"
    assert "parce que vous suivez la proposition « Parking vergroenen »" in plain(message)
    assert list(inbox(handler)) == [people["neighbour"].email]


def test_an_official_s_update_reaches_the_followers_of_a_theme(client, db, people, residents, smtp):
    handler, port = smtp
    client.put("/api/me/follows", headers=bearer(people["resident"]),
               json={"follows": [{"platform": "testdorp", "theme": "vergroenen"}]})
    client.post(f"{LAYER}/follow", headers=bearer(people["neighbour"]))  # the layer carries the theme
    client.post("/api/platforms/testdorp/layers/christmas-village/follow", headers=bearer(people["moderator"]))
    with db.transaction() as session:  # the OIDC-only account follows the theme too, but has no address
        session.add(Follow(user_id=residents, platform_id=_platform_id(session), theme="vergroenen",
                           created_at=utcnow()))
    update = {"theme": "vergroenen", "subject": "Werkgroep vergroening",
              "body": "Werkgroep vergroening op 10 september om 19.30 uur\nin het gemeenschapscentrum."}

    refused = client.post("/api/platforms/testdorp/announcements/preview", json=update,
                          headers=bearer(people["resident"]))
    assert refused.status_code == 403
    bad = client.post("/api/platforms/testdorp/announcements/preview", headers=bearer(people["official"]),
                      json=update | {"subject": ""})
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "subject"
    preview = client.post("/api/platforms/testdorp/announcements/preview", json=update,
                          headers=bearer(people["official"]))
    assert preview.status_code == 200, preview.get_json()
    shown = preview.get_json()
    assert shown["subject"] == "Testdorp: Werkgroep vergroening"
    assert "19.30 uur\nin het gemeenschapscentrum" in shown["body_text"]
    assert shown["recipients_by_language"] == {"nl": 1, "fr": 1}
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 0  # a preview sends nothing

    sent = client.post("/api/platforms/testdorp/announcements", json=update, headers=bearer(people["official"]))
    assert sent.status_code == 201 and sent.get_json()["recipient_count"] == shown["recipient_count"]
    deliver(db, port)
    mails = inbox(handler)
    assert sorted(mails) == sorted([people["resident"].email, people["neighbour"].email])
    assert len(handler.received) == shown["recipient_count"]
    (french,) = mails[people["neighbour"].email]
    assert french["Subject"] == "Village-test : Werkgroep vergroening"
    assert "Un message de Village-test" in plain(french) and "gemeenschapscentrum" in plain(french)


def unsubscribe_path(message) -> str:
    url = message["List-Unsubscribe"].strip("<>")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
    return parts.path + "?" + parts.query


def test_unsubscribe_by_link_without_login(app, client, db, people, residents, smtp):
    handler, port = smtp
    neighbour = people["neighbour"]
    client.post(f"{LAYER}/follow", headers=bearer(neighbour))
    first = drop_pin(client, people["resident"], 0, "Stoep ontharden")
    set_status(client, people["official"], first, "rejected", "Te smal.")
    deliver(db, port)
    (message,) = inbox(handler)[neighbour.email]
    path = unsubscribe_path(message)
    assert path in plain(message)  # the link is in the text too

    browser = app.test_client()  # nobody logged in
    page = browser.get(path)
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    assert "Ne plus recevoir d'e-mails sur la carte « Désimperméabiliser et verdir » de Village-test ?" in html
    assert neighbour.email not in html
    with db.sessions() as session:  # looking is not unsubscribing
        assert session.scalar(select(func.count()).select_from(Follow)) == 1

    tampered = path.replace(path.split("/")[2][:8], "AAAAAAAA", 1)
    for answer in (browser.get(tampered), browser.post(tampered, data={"List-Unsubscribe": "One-Click"})):
        assert answer.status_code == 400
        assert "Ce lien de désabonnement n'est pas valable" in unescape(answer.get_data(as_text=True))
    with db.sessions() as session, pytest.raises(BadRequest) as refused:
        following.read_unsubscribe(session, app.config["MAPSVC"]["SECRET_KEY"], tampered.split("/")[2].split("?")[0],
                                   "fr")
    assert refused.value.code == "invalid_unsubscribe_link"

    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no cookie and no CSRF token.
    done = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "C'est fait" in unescape(done.get_data(as_text=True))
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Follow)) == 0
    again = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200 and "déjà fait" in again.get_data(as_text=True)

    second = drop_pin(client, people["resident"], 400, "Plein ontharden")
    set_status(client, people["official"], second, "rejected", "Geen budget.")
    deliver(db, port)
    assert len(inbox(handler)[neighbour.email]) == 1  # no more mail for the neighbour
    assert len(inbox(handler)[people["resident"].email]) == 2  # the author still hears about their own pins

    # The author's own link stops mail about their own pins; a logged-in browser may use it too.
    (author_mail, _later) = inbox(handler)[people["resident"].email]
    login(client, people["resident"].email)
    assert client.post(unsubscribe_path(author_mail)).status_code == 200
    with db.sessions() as session:
        assert session.get(User, people["resident"].user_id).own_pin_updates is False


def test_the_preferences_page_is_a_plain_labelled_form(client, db, people, residents):
    assert client.get("/account/updates").status_code == 302  # to the login page
    login(client, people["resident"].email)
    page = client.get("/account/updates?lang=fr")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "E-mails et abonnements" in html
    for value in ("p:testdorp", "t:testdorp:vergroenen", "l:testdorp:unpaving-spots"):
        field = re.search(rf'<input type="checkbox" id="([^"]+)" name="follow" value="{value}"', html)
        assert field and f'<label for="{field.group(1)}">' in html  # every box has its label
    assert 'id="weekly-digest"' in html and '<label for="weekly-digest">' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    saved = client.post("/account/updates", data={"csrf_token": token, "weekly_digest": "1", "own_pin_updates": "1",
                                                   "follow": ["t:testdorp:vergroenen", "l:testdorp:christmas-village"]})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/account/updates?saved=1")
    mine = client.get("/api/me/follows").get_json()
    assert mine["weekly_digest"] is True
    assert {(f["layer"], f["theme"]) for f in mine["follows"]} == {(None, "vergroenen"), ("christmas-village", None)}
    shown = client.get("/account/updates?saved=1").get_data(as_text=True)
    assert re.search(r'value="t:testdorp:vergroenen" checked', shown) and "Vos choix sont enregistrés." in shown
    assert client.post("/account/updates", data={"follow": ["p:testdorp"]}).status_code == 400  # no CSRF token
    wrong = client.post("/account/updates", data={"csrf_token": token, "follow": ["t:testdorp:zwembaden"]})
    assert wrong.status_code == 400 and "Ce thème n'existe pas" in unescape(wrong.get_data(as_text=True))


def test_follow_button_on_the_layer_page(client, people, residents):
    anonymous = client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert 'id="mapsvc-follow"' in anonymous and "Log in om deze kaart te volgen." in anonymous
    login(client, people["resident"].email)
    page = client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert "Volg deze kaart" in page
    followed = client.post("/p/testdorp/unpaving-spots/follow", data={"csrf_token": csrf_of(client)})
    assert followed.status_code == 302
    page = client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert "Je volgt deze kaart." in page and 'value="unfollow"' in page
    client.post("/p/testdorp/unpaving-spots/follow", data={"csrf_token": csrf_of(client), "action": "unfollow"})
    assert client.get("/api/me/follows").get_json()["follows"] == []


def test_the_announcement_page_previews_then_sends(client, db, people, residents):
    client.post(f"{LAYER}/follow", headers=bearer(people["neighbour"]))
    client.post(f"{LAYER}/follow", headers=bearer(people["resident"]))
    login(client, people["resident"].email)
    assert client.get("/p/testdorp/announcements").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    login(client, people["official"].email)
    form = client.get("/p/testdorp/announcements").get_data(as_text=True)
    assert 'value="layer:unpaving-spots"' in form and 'value="theme:vergroenen"' in form
    token = csrf_of(client)
    fields = {"csrf_token": token, "target": "layer:unpaving-spots", "subject": "Plantdag",
              "body": "Plantdag op zaterdag 10 oktober."}
    preview = client.post("/p/testdorp/announcements", data=fields | {"step": "preview"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Dit bericht gaat naar 2 personen met een e-mailadres." in html and "Plantdag op zaterdag" in html
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    sent = client.post("/p/testdorp/announcements", data=fields | {"step": "send"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("sent=2")
    assert "Verstuurd: 2 e-mails" in client.get(sent.headers["Location"]).get_data(as_text=True)
    with db.sessions() as session:
        keys = session.scalars(select(OutgoingMail.dedupe_key)).all()
    assert len(keys) == 2 and all(k.startswith("announcement:") for k in keys)
    empty = client.post("/p/testdorp/announcements", data=fields | {"step": "preview", "subject": ""})
    assert empty.status_code == 400 and "Vul een onderwerp" in empty.get_data(as_text=True)


def test_weekly_digest(app, client, db, people, residents, smtp):
    handler, port = smtp
    resident = people["resident"]
    older = drop_pin(client, people["neighbour"], 0, "Oude parking")
    with db.transaction() as session:  # a pin from before the period, decided on this week
        session.get(Feature, older).created_at = utcnow() - timedelta(days=20)
    client.put("/api/me/follows", headers=bearer(resident), json={
        "weekly_digest": True, "follows": [{"platform": "testdorp", "layer": "unpaving-spots"}]})
    client.put("/api/me/follows", headers=bearer(people["moderator"]), json={  # follows, but no digest
        "follows": [{"platform": "testdorp", "layer": "unpaving-spots"}]})
    assert set_status(client, people["official"], older, "under_review").status_code == 200
    drop_pin(client, people["neighbour"], 500, "Nieuwe boomspiegel")

    from mapsvc.cli import main

    def run(*args):
        return CliRunner().invoke(main, ["following", "digest", *args], obj=ScriptInfo(create_app=lambda: app),
                                  catch_exceptions=False)

    dry = run("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"user {resident.user_id}: 1 new pin(s), 1 status change(s) – would be queued" in dry.output
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    done = run()
    assert done.exit_code == 0 and "1 digest(s) queued" in done.output
    deliver(db, port)
    (digest,) = inbox(handler)[resident.email]
    assert digest["Subject"] == "Je weekoverzicht: 2 nieuwigheden in wat je volgt"
    text = plain(digest)
    assert "Nieuwe boomspiegel" in text and "Oude parking: in behandeling" in text
    assert "omdat je het wekelijkse overzicht aanzette" in text
    assert list(inbox(handler)) == [resident.email]  # only who opted in
    assert "0 digest(s) queued" in run().output  # nothing new since; and at most one per week anyway

    # The digest's own link switches the digest off.
    assert app.test_client().post(unsubscribe_path(digest), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with db.sessions() as session:
        assert session.get(User, resident.user_id).weekly_digest is False


# ---------------------------------------------------------------------------------------------- review fixes

def test_a_pin_title_with_line_breaks_gives_a_one_line_subject(client, db, people, residents, smtp):
    handler, port = smtp
    spot = drop_pin(client, people["resident"], 0, "Boom")
    with db.transaction() as session:  # whatever a client managed to store: \n, \r\n, \u2028
        feature = session.get(Feature, spot)
        feature.properties = {**feature.properties, "title": "Boom\r\nweg\u2028aan  de\nkerk\n"}
    changed = set_status(client, people["official"], spot, "rejected", "Te smal.")
    assert changed.status_code == 200, changed.get_json()
    deliver(db, port)
    (message,) = inbox(handler)[people["resident"].email]
    assert message["Subject"] == "Testdorp: je voorstel „Boom weg aan de kerk” is niet weerhouden"


@pytest.mark.parametrize("subject", ["Plantdag\nBcc: iedereen@example.be", "Plantdag\rop zaterdag",
                                     "Plantdag\u2028op zaterdag", "Plantdag\x85op zaterdag"])
def test_an_announcement_subject_must_be_one_line(client, db, people, residents, subject):
    client.post(f"{LAYER}/follow", headers=bearer(people["neighbour"]))
    for path in ("/api/platforms/testdorp/announcements/preview", "/api/platforms/testdorp/announcements"):
        answer = client.post(path, headers=bearer(people["official"]), json={"subject": subject, "body": "Tekst"})
        assert answer.status_code == 422, answer.get_json()
        error = answer.get_json()["error"]
        assert error["code"] == "invalid_announcement" and error["details"] == {"field": "subject"}
        assert "must be one line" in error["message"]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 0


def test_an_unsubscribe_link_of_a_deleted_account_does_nothing_to_the_account_that_got_its_id(app, client, db,
                                                                                              testdorp):
    """SQLite hands a deleted account's id to the next one: the link's account creation time tells them apart."""
    secret = app.config["MAPSVC"]["SECRET_KEY"]
    with db.transaction() as session:
        platform_id = _platform_id(session)
        old = User(email="weg@testdorp.example", locale="nl", is_active=True,
                   created_at=utcnow() - timedelta(days=30))
        session.add(old)
        session.flush()
        follow = Follow(user_id=old.id, platform_id=platform_id, created_at=utcnow())
        session.add(follow)
        session.flush()
        user_id, follow_id = old.id, follow.id
        old_link = make_token(secret, user_id, FOLLOW, follow_id, created_at=old.created_at)
    with db.transaction() as session:  # the account goes ...
        session.delete(session.get(Follow, follow_id))
        session.delete(session.get(User, user_id))
    with db.transaction() as session:  # ... and a new one gets its id (and its follow's id)
        new = User(id=user_id, email="nieuw@testdorp.example", locale="nl", is_active=True, weekly_digest=True,
                   created_at=utcnow())
        session.add(new)
        session.flush()
        session.add(Follow(id=follow_id, user_id=user_id, platform_id=platform_id, created_at=utcnow()))
        new_link = make_token(secret, user_id, FOLLOW, follow_id, created_at=new.created_at)
        assert account_stamp(new.created_at) != account_stamp(utcnow() - timedelta(days=30))

    for answer in (client.get(f"/unsubscribe/{old_link}"), client.post(f"/unsubscribe/{old_link}")):
        assert answer.status_code == 400
        assert "hoort bij een account dat niet meer bestaat" in answer.get_data(as_text=True)
    with db.sessions() as session, pytest.raises(BadRequest) as refused:
        following.read_unsubscribe(session, secret, old_link, "nl")
    assert refused.value.code == "unsubscribe_link_other_account"
    with db.sessions() as session:
        assert session.get(Follow, follow_id) is not None  # the new account keeps its follow

    assert client.post(f"/unsubscribe/{new_link}").status_code == 200  # its own link still works
    with db.sessions() as session:
        assert session.get(Follow, follow_id) is None


class _PastSigner(TimestampSigner):
    """Signs as if it were a day past the links' lifetime ago (no waiting)."""

    def get_timestamp(self) -> int:
        return super().get_timestamp() - UNSUBSCRIBE_MAX_AGE - 24 * 3600


def test_unsubscribe_links_signed_elsewhere_expired_or_for_someone_else_s_follow(app, client, db, people):
    secret = app.config["MAPSVC"]["SECRET_KEY"]
    resident, neighbour = people["resident"], people["neighbour"]
    client.post(f"{LAYER}/follow", headers=bearer(resident))
    with db.sessions() as session:
        (follow,) = session.scalars(select(Follow).where(Follow.user_id == resident.user_id))
        resident_since = session.get(User, resident.user_id).created_at
        neighbour_since = session.get(User, neighbour.user_id).created_at

    foreign = make_token("another-secret-key", resident.user_id, FOLLOW, follow.id, created_at=resident_since)
    payload = {"u": resident.user_id, "c": account_stamp(resident_since), "s": FOLLOW, "f": follow.id}
    expired = URLSafeTimedSerializer(secret, salt=UNSUBSCRIBE_SALT, signer=_PastSigner).dumps(payload)
    for token, code, shown in ((foreign, "invalid_unsubscribe_link", "Deze uitschrijflink klopt niet"),
                               (expired, "unsubscribe_link_expired", "Deze uitschrijflink is verlopen")):
        with db.sessions() as session, pytest.raises(BadRequest) as refused:
            following.read_unsubscribe(session, secret, token, "nl")
        assert refused.value.code == code
        answer = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 400 and shown in answer.get_data(as_text=True)

    # Validly signed, for the neighbour's account, but naming the resident's follow: nothing happens to it.
    theirs = make_token(secret, neighbour.user_id, FOLLOW, follow.id, created_at=neighbour_since)
    answer = client.post(f"/unsubscribe/{theirs}", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "Hier valt niets meer uit te schrijven" in answer.get_data(as_text=True)
    with db.sessions() as session:
        assert session.get(Follow, follow.id) is not None


def test_a_followed_pin_that_gets_hidden_stays_in_the_preferences(client, db, people, residents):
    resident = bearer(people["resident"])
    spot = drop_pin(client, people["neighbour"], 0, "Geheime titel")
    other = drop_pin(client, people["neighbour"], 400, "Ander voorstel")
    assert client.post(f"{LAYER}/features/{spot}/follow", headers=resident).status_code == 201
    client.post(f"{LAYER}/follow", headers=resident)
    with db.transaction() as session:  # a moderator hides both pins
        session.get(Feature, spot).visibility = "hidden"
        session.get(Feature, other).visibility = "hidden"

    mine = client.get("/api/me/follows", headers=resident).get_json()
    assert "Geheime titel" not in str(mine)  # the hidden pin's text is no longer shown
    items = [{k: v for k, v in (("platform", f["platform"]), ("layer", f["layer"]), ("feature", f["feature"]),
                                ("theme", f["theme"])) if v is not None} for f in mine["follows"]]
    put = client.put("/api/me/follows", headers=resident, json={"follows": items})  # GET's output, PUT back
    assert put.status_code == 200, put.get_json()
    assert [f["id"] for f in put.get_json()["follows"]] == [f["id"] for f in mine["follows"]]
    new_hidden = client.put("/api/me/follows", headers=resident, json={"follows": items + [
        {"platform": "testdorp", "layer": "unpaving-spots", "feature": other}]})
    assert new_hidden.status_code == 404  # a hidden pin one did not follow yet cannot be followed
    assert client.post(f"{LAYER}/features/{other}/follow", headers=resident).status_code == 404

    login(client, people["resident"].email)
    page = client.get("/account/updates").get_data(as_text=True)
    assert f'value="f:testdorp:unpaving-spots:{spot}" checked' in page and "Geheime titel" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    saved = client.post("/account/updates", data={"csrf_token": token, "own_pin_updates": "1", "follow": [
        "l:testdorp:unpaving-spots", f"f:testdorp:unpaving-spots:{spot}"]})
    assert saved.status_code == 302
    assert {f["feature"] for f in client.get("/api/me/follows").get_json()["follows"]} == {spot, None}


def test_contributors_are_offered_to_follow_the_layer_never_subscribed(client, db, people, residents):
    resident, neighbour = bearer(people["resident"]), bearer(people["neighbour"])
    created = client.post(f"{LAYER}/features", json=pin(0, title="Speelplein"), headers=resident)
    assert created.status_code == 201 and created.get_json()["follow_offer"] is True
    spot = created.get_json()["id"]
    assert client.get("/api/me/follows", headers=resident).get_json()["follows"] == []  # only an offer

    voted = client.post(f"{LAYER}/features/{spot}/vote", headers=neighbour)
    assert voted.status_code == 201 and voted.get_json()["follow_offer"] is True
    assert voted.get_json()["voted"] is True
    assert client.get("/api/me/follows", headers=neighbour).get_json()["follows"] == []

    client.post(f"{LAYER}/follow", headers=resident)
    client.post(f"{LAYER}/follow", headers=neighbour)
    again = client.post(f"{LAYER}/features", json=pin(400, title="Schoolstraat"), headers=resident)
    assert again.status_code == 201 and again.get_json()["follow_offer"] is False  # follows it already
    assert client.post(f"{LAYER}/features/{again.get_json()['id']}/vote",
                       headers=neighbour).get_json()["follow_offer"] is False

    with db.transaction() as session:  # an account without an address (government login only): no mail to offer
        session.get(User, people["moderator"].user_id).email = None
    no_address = client.post(f"{LAYER}/features/{spot}/vote", headers=bearer(people["moderator"]))
    assert no_address.status_code == 201 and no_address.get_json()["follow_offer"] is False

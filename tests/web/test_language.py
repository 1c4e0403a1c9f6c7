"""The interface language: ?lang=, the remembered cookie, the account's language, Dutch by default."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from mapsvc.storage.models import User
from tests.web.conftest import PASSWORD, login


def config_of(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="mapsvc-config">(.*?)</script>', html, re.S)[1])


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html)[1]


def language_cookie(response) -> str | None:
    """The mapsvc_lang cookie a response sets, with its attributes, or None."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("mapsvc_lang=")]
    return found[0] if found else None


def switch(client, lang: str, next_path: str = "/p/testdorp"):
    """Press a language button of the switcher (a form with the page's CSRF token)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    return client.post("/language", data={"lang": lang, "next": next_path, "csrf_token": token})


def test_dutch_by_default_and_accept_language_is_ignored(client, testdorp):
    response = client.get("/p/testdorp", headers={"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"})
    html = response.get_data(as_text=True)
    assert html_lang(html) == "nl" and "Kaart van Testdorp" in html and "Legende" in html
    assert language_cookie(response) is None


@pytest.mark.parametrize("lang, title, legend, field, error", [
    ("fr", "Carte de Village-test", "Légende", "Titre", "Cet endroit se trouve en dehors de {platform}."),
    ("en", "Map of Test village", "Legend", "Title", "This place lies outside {platform}."),
])
def test_lang_answers_in_that_language_and_sets_the_cookie(client, testdorp, lang, title, legend, field, error):
    response = client.get(f"/p/testdorp?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html_lang(html) == lang and title in html and legend in html and "Kaart van" not in html
    config = config_of(html)
    assert config["language"] == lang and config["platform"]["name"] in title
    assert config["messages"]["error.outside_boundary"].startswith(error.split(" {")[0])
    assert {f["name"]: f["label"] for f in config["layers"][0]["fields"]}["title"] == field
    cookie = language_cookie(response)
    assert cookie.startswith(f"mapsvc_lang={lang};") and "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie


def test_the_cookie_is_remembered(client, testdorp):
    client.get("/p/testdorp/unpaving-spots?lang=en")
    html = client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert html_lang(html) == "en" and "Unpaving and greening – Test village" in html
    assert "greening" in config_of(html)["layers"][0]["themeLabels"].values()
    assert html_lang(client.get("/").get_data(as_text=True)) == "en"


def test_an_explicit_lang_wins_over_the_cookie(client, testdorp):
    client.set_cookie("mapsvc_lang", "en")
    assert html_lang(client.get("/p/testdorp?lang=fr").get_data(as_text=True)) == "fr"
    assert html_lang(client.get("/p/testdorp").get_data(as_text=True)) == "fr"  # and is remembered


@pytest.mark.parametrize("value", ["xx", "", "de", "<script>"])
def test_an_unknown_language_falls_back_to_dutch(client, testdorp, value):
    client.set_cookie("mapsvc_lang", "zz")
    response = client.get("/p/testdorp", query_string={"lang": value})
    assert response.status_code == 200 and html_lang(response.get_data(as_text=True)) == "nl"
    assert language_cookie(response) is None


def test_the_logged_in_persons_language_is_used(client, db, testdorp, people):
    with db.transaction() as session:
        session.get(User, people["resident"].user_id).locale = "fr"
    login(client, people["resident"].email, PASSWORD)
    html = client.get("/p/testdorp").get_data(as_text=True)
    assert html_lang(html) == "fr" and "Connecté·e en tant que" in html
    client.set_cookie("mapsvc_lang", "en")  # a choice made on this browser comes first
    assert html_lang(client.get("/p/testdorp").get_data(as_text=True)) == "en"


def test_the_switcher_remembers_the_choice_and_stores_it_for_the_account(client, db, testdorp, people):
    anonymous = switch(client, "en", "/p/testdorp?x=1")
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/p/testdorp?x=1"
    assert language_cookie(anonymous).startswith("mapsvc_lang=en;")
    login(client, people["neighbour"].email, PASSWORD)
    response = switch(client, "fr")
    assert response.status_code == 303 and response.headers["Location"] == "/p/testdorp"
    with db.transaction() as session:
        assert session.get(User, people["neighbour"].user_id).locale == "fr"
    client.delete_cookie("mapsvc_lang")
    assert html_lang(client.get("/p/testdorp").get_data(as_text=True)) == "fr"  # from the account


def test_the_switcher_checks_its_input(client, testdorp):
    assert switch(client, "de").status_code == 400
    assert switch(client, "fr", "https://evil.example/").headers["Location"] == "/"  # no open redirect
    assert client.post("/language", data={"lang": "fr", "next": "/"}).status_code == 400  # no CSRF token


def test_every_page_offers_the_switcher(client, testdorp):
    html = client.get("/p/testdorp?lang=fr").get_data(as_text=True)
    buttons = re.findall(r'<button type="submit" name="lang" value="(\w+)" lang="(\w+)"( aria-current="true")?>([^<]+)<',
                         html)
    assert [(b[0], b[1], bool(b[2]), b[3]) for b in buttons] == [
        ("nl", "nl", False, "Nederlands"), ("fr", "fr", True, "Français"), ("en", "en", False, "English")]
    for path in ("/", "/login", "/p/testdorp/unpaving-spots", "/ogc?f=html"):
        assert 'action="/language"' in client.get(path).get_data(as_text=True), path


@pytest.mark.parametrize("lang, words", [
    ("nl", ["Fout 404", "Deze pagina bestaat niet.", "Terug naar de startpagina"]),
    ("fr", ["Erreur 404", "Cette page n'existe pas.", "Retour à la page d'accueil"]),
    ("en", ["Error 404", "This page does not exist.", "Back to the front page"]),
])
def test_error_pages_speak_the_chosen_language(client, testdorp, lang, words):
    client.set_cookie("mapsvc_lang", lang)
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 404 and html_lang(html) == lang
    assert all(word in html for word in words), html
    layer = unescape(client.get("/p/testdorp/no-such-layer", headers={"Accept": "text/html"}).get_data(as_text=True))
    assert {"nl": "Deze kaartlaag bestaat niet.", "fr": "Cette couche n'existe pas.",
            "en": "This map layer does not exist."}[lang] in layer


def test_a_bad_parameter_page_translates_the_code_and_keeps_the_detail(client, testdorp):
    html = unescape(client.get("/p/testdorp?zoom=3&lang=fr", headers={"Accept": "text/html"}).get_data(as_text=True))
    assert "L'adresse contient un paramètre inconnu." in html and '<span lang="en">Unknown query parameter' in html


def test_the_api_stays_english_with_a_stable_code(client, testdorp):
    client.set_cookie("mapsvc_lang", "fr")
    body = client.get("/api/platforms/testdorp/layers/nope").get_json()
    assert body["error"]["code"] == "unknown_layer" and "layer" in body["error"]["message"].lower()


@pytest.mark.parametrize("lang, open_full, logged_in", [
    ("fr", "Ouvrir la carte complète", "Se connecter"), ("en", "Open the full map", "Log in")])
def test_the_embed_page_in_french_and_english(client, testdorp, lang, open_full, logged_in):
    response = client.get(f"/embed/testdorp/unpaving-spots?lang={lang}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html_lang(html) == lang and open_full in html and logged_in in html
    # In a cross-site frame cookies may be blocked: the embed's switcher is links that carry the language.
    assert f'href="/embed/testdorp/unpaving-spots?lang=nl" lang="nl" hreflang="nl">Nederlands</a>' in html
    assert f'lang="{lang}" hreflang="{lang}" aria-current="true"' in html
    assert "Content-Security-Policy" in response.headers


def test_dates_are_written_dd_mm_yyyy(client, db, testdorp):
    from datetime import datetime, timezone

    from tests.web.conftest import set_layer

    set_layer(db, "unpaving-spots", closes_at=datetime(2031, 3, 4, 23, 30, tzinfo=timezone.utc))
    html = client.get("/p/testdorp/unpaving-spots?lang=en").get_data(as_text=True)
    assert "Open for pins and votes until 05/03/2031." in html  # 00:30 in Brussels: already the 5th

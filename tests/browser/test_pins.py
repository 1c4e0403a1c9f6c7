"""Residents in Chromium: log in, drop a pin by clicking the map, vote, unvote, hit the boundary rule,
meet a nearby duplicate, edit and withdraw their pin; and the same through an embedded map."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from tests.browser.conftest import PASSWORD, HostSite, log_in, open_map, set_embed_origins
from tests.browser.helpers import Spot, click_map_at, open_pin

LAYER = "unpaving-spots"
PAGE = f"/p/poperinge/{LAYER}"
OUTSIDE_MESSAGE = "Deze plek ligt buiten Poperinge. Kies een plek binnen de grens."


def drop_pin(target, spot: Spot, title: str, **fields) -> None:
    click_map_at(target, spot)
    panel = target.locator("#mapsvc-form-panel")
    panel.locator("#mapsvc-f-title").wait_for()
    panel.locator("#mapsvc-f-title").fill(title)
    for name, value in fields.items():
        field = panel.locator(f"#mapsvc-f-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    panel.locator("button[type=submit]").click()


def vote_and_unvote(target, spot: Spot) -> None:
    popup = open_pin(target, spot)
    before = popup.locator(".mapsvc-votes").inner_text()
    n = int(before.split()[0])
    popup.locator(".mapsvc-vote").click()
    popup = target.locator(f".leaflet-popup .mapsvc-popup[data-feature-id='{spot.id}']")
    popup.locator(".mapsvc-unvote").wait_for()
    assert popup.locator(".mapsvc-votes").inner_text() == ("1 steun" if n + 1 == 1 else f"{n + 1} steunen")
    assert "Je steunt dit voorstel." in popup.inner_text()
    assert target.locator(f".leaflet-marker-pane .mapsvc-pin.is-voted[data-feature-id='{spot.id}']").count() == 1
    popup.locator(".mapsvc-unvote").click()
    popup = target.locator(f".leaflet-popup .mapsvc-popup[data-feature-id='{spot.id}']")
    popup.locator(".mapsvc-vote").wait_for()
    assert popup.locator(".mapsvc-votes").inner_text() == before


def test_anonymous_visitors_are_asked_to_log_in(server, page, spots):
    open_map(page, f"{server.base}{PAGE}")
    click_map_at(page, spots.free[0])
    prompt = page.locator(".leaflet-popup .mapsvc-login-prompt")
    assert "Log in om een pin te plaatsen" in prompt.inner_text()
    assert prompt.locator("a").get_attribute("href").startswith("/login?next=")
    assert page.locator("#mapsvc-form-panel").is_hidden()


def test_a_resident_drops_a_pin_votes_and_meets_the_rules(server, page, spots):
    log_in(page, server, "resident")
    open_map(page, f"{server.base}{PAGE}")
    assert page.locator("#mapsvc-auth").inner_text().startswith("Ingelogd als Resident")

    drop_pin(page, spots.free[0], "Tegels eruit aan de <b>kerk</b>", description="Veel beton.\nGraag groen.",
             theme="ontharden", surface_m2="12,5")
    mine = page.locator(".leaflet-marker-pane .mapsvc-pin.is-mine")
    mine.wait_for()
    popup = page.locator(".leaflet-popup .mapsvc-popup")
    assert popup.locator("h3").inner_text() == "Tegels eruit aan de <b>kerk</b>"
    feature_id = int(mine.get_attribute("data-feature-id"))
    stored = page.request.get(f"{server.base}/api/platforms/poperinge/layers/{LAYER}/features/{feature_id}").json()
    assert stored["properties"]["surface_m2"] == 12.5 and stored["properties"]["theme"] == "ontharden"

    vote_and_unvote(page, spots.isolated[0])

    drop_pin(page, spots.outside, "Buiten de gemeente")
    error = page.locator("#mapsvc-form-panel .mapsvc-form-error")
    error.wait_for()
    page.wait_for_function("document.querySelector('#mapsvc-form-panel .mapsvc-form-error').textContent.includes('buiten')")
    assert OUTSIDE_MESSAGE in error.inner_text()
    page.locator("#mapsvc-form-panel button", has_text="Annuleren").click()

    drop_pin(page, spots.free[1], "")
    assert page.locator("#mapsvc-f-title").get_attribute("maxlength") == "120"  # the length limit, as typed
    page.wait_for_function("(document.getElementById('mapsvc-e-title') || {}).textContent?.length > 0")
    assert page.locator("#mapsvc-e-title").inner_text() == "Vul dit veld in."
    assert page.locator("#mapsvc-form-panel .mapsvc-form-error").inner_text() == \
        "Niet alles klopt. Pas de aangeduide velden aan."
    page.keyboard.press("Escape")
    assert page.locator("#mapsvc-form-panel").is_hidden()
    assert page.watch.errors == [] and page.watch.dialogs == []


def test_a_nearby_suggestion_is_offered_for_support(server, page, spots):
    log_in(page, server, "neighbour")
    open_map(page, f"{server.base}{PAGE}")
    target = spots.isolated[1]
    near = Spot(target.lon + 20 / (111_320 * math.cos(math.radians(target.lat))), target.lat)
    drop_pin(page, near, "Hier ook ontharden")
    box = page.locator("#mapsvc-form-panel .mapsvc-nearby-box")
    box.locator("h3").wait_for()
    assert box.locator("h3").inner_text() == "Er ligt al een voorstel in de buurt"
    item = box.locator(f"li[data-feature-id='{target.id}']")
    assert target.title in item.inner_text() and "20 m hiervandaan" in item.inner_text()
    item.locator(".mapsvc-support-nearby").click()
    page.locator("#mapsvc-form-panel").wait_for(state="hidden")
    votes = page.request.get(f"{server.base}/api/platforms/poperinge/layers/{LAYER}/my-votes").json()
    assert target.id in votes["feature_ids"]

    drop_pin(page, near, "Toch een eigen pin")
    box.locator("h3").wait_for()
    box.locator(".mapsvc-create-anyway").click()
    page.locator(".leaflet-marker-pane .mapsvc-pin.is-mine").wait_for()


def test_authors_edit_and_withdraw_their_submitted_pin(server, page, spots):
    log_in(page, server, "neighbour")
    open_map(page, f"{server.base}{PAGE}")
    drop_pin(page, spots.free[2], "Eerste versie")
    mine = page.locator(".leaflet-marker-pane .mapsvc-pin.is-mine").last
    mine.wait_for()
    feature_id = mine.get_attribute("data-feature-id")
    popup = page.locator(f".leaflet-popup .mapsvc-popup[data-feature-id='{feature_id}']")
    popup.locator(".mapsvc-edit").click()
    title = page.locator("#mapsvc-form-panel #mapsvc-f-title")
    title.wait_for()
    assert title.input_value() == "Eerste versie"
    title.fill("Tweede versie")
    page.locator("#mapsvc-form-panel button[type=submit]").click()
    page.wait_for_function(f"(document.querySelector(\".leaflet-popup .mapsvc-popup[data-feature-id='{feature_id}'] h3\")"
                           " || {}).textContent === 'Tweede versie'")
    withdraw = popup.locator(".mapsvc-withdraw")
    withdraw.click()
    assert withdraw.inner_text().startswith("Deze pin intrekken?")
    withdraw.click()
    page.wait_for_function(f"!document.querySelector(\".leaflet-marker-pane .mapsvc-pin[data-feature-id='{feature_id}']\")")
    gone = page.request.get(f"{server.base}/api/platforms/poperinge/layers/{LAYER}/features/{feature_id}")
    assert gone.status == 404


def test_the_same_through_an_embedded_map(server, page, spots):
    log_in(page, server, "resident")
    embed = f"{server.base}/embed/poperinge/{LAYER}"
    with HostSite(embed) as site:
        set_embed_origins(server, "poperinge", [site.origin])
        try:
            page.goto(site.origin)
            frame = page.frame_locator("#map")
            frame.locator(".leaflet-marker-pane .mapsvc-pin").first.wait_for()
            inner = next(f for f in page.frames if f.url.startswith(embed))
            inner.wait_for_function("window.mapsvcPinsDrawn !== undefined")
            assert "Ingelogd als Resident" in inner.locator("#mapsvc-auth").inner_text()

            drop_pin(inner, Spot(spots.free[1].lon, spots.free[1].lat), "Via de gemeentesite")
            inner.locator(".leaflet-marker-pane .mapsvc-pin.is-mine").first.wait_for()
            assert inner.locator(".leaflet-popup .mapsvc-popup h3").inner_text() == "Via de gemeentesite"

            vote_and_unvote(inner, spots.isolated[2])

            drop_pin(inner, spots.outside, "Buiten de gemeente")
            inner.wait_for_function(
                "(document.querySelector('#mapsvc-form-panel .mapsvc-form-error') || {}).textContent?.includes('buiten')")
            assert OUTSIDE_MESSAGE in inner.locator("#mapsvc-form-panel .mapsvc-form-error").inner_text()
        finally:
            set_embed_origins(server, "poperinge", [])
    assert page.watch.errors == [] and page.watch.dialogs == []


def embed_tokens(server, name: str) -> list[bool]:
    """Whether each embedded-map token of a test user is revoked."""
    from mapsvc.services.accounts import EMBED_TOKEN_NAME
    from mapsvc.storage.models import ApiToken, User

    database = server.database()
    try:
        with database.sessions() as session:
            user = session.query(User).filter_by(email=server.users[name]).one()
            return [t.revoked_at is not None for t in session.query(ApiToken).filter_by(user_id=user.id,
                                                                                        name=EMBED_TOKEN_NAME)]
    finally:
        database.dispose()


def test_an_embed_on_another_site_logs_in_through_a_popup(server, page, spots):
    embed = f"{server.base}/embed/poperinge/{LAYER}"
    log_in(page, server, "resident")                       # a first-party session on mapsvc's own site ...
    with HostSite(embed, host="localhost") as site:
        set_embed_origins(server, "poperinge", [site.origin])
        try:
            page.goto(site.origin)
            page.frame_locator("#map").locator(".leaflet-marker-pane .mapsvc-pin").first.wait_for()
            inner = next(f for f in page.frames if f.url.startswith(embed))
            inner.wait_for_function("window.mapsvcPinsDrawn !== undefined")
            # ... which the cross-site frame does not get: the cookie is SameSite=Lax.
            assert inner.locator("#mapsvc-auth").inner_text().strip() == "Inloggen"

            page.context.clear_cookies()                   # log in inside the popup, as a newcomer would
            with page.expect_popup() as opened:
                inner.locator("#mapsvc-login").click()
            popup = opened.value
            popup.wait_for_load_state()
            assert urlsplit(popup.url).path == "/login"
            popup.fill("#email", server.users["resident"])
            popup.fill("#password", PASSWORD)
            with popup.expect_event("close"):
                popup.click("button[type=submit]")

            inner.locator("#mapsvc-auth", has_text="Ingelogd als Resident").wait_for()
            inner.wait_for_function("window.mapsvc.pending() === 0")   # the pins again, now with mine/voted
            drop_pin(inner, Spot(spots.free[2].lon, spots.free[2].lat), "Vanop een andere site")
            inner.locator(".leaflet-marker-pane .mapsvc-pin.is-mine").first.wait_for()
            assert inner.locator(".leaflet-popup .mapsvc-popup h3").inner_text() == "Vanop een andere site"
            vote_and_unvote(inner, spots.isolated[3])

            inner.locator("#mapsvc-embed-logout").click()
            inner.locator("#mapsvc-login").wait_for()
            assert embed_tokens(server, "resident") == [True]        # one token was issued, and it is revoked
        finally:
            set_embed_origins(server, "poperinge", [])
    assert page.watch.errors == [] and page.watch.dialogs == []

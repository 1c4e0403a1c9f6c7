"""Switch the interface language on a map page with the keyboard: legend, pin form and popups follow, and
the choice is remembered after a reload and stored for the account."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PASSWORD, _cli, open_map
from tests.browser.helpers import click_map_at, open_pin

PAGE = "/p/poperinge/unpaving-spots"  # the conftest's `spots` lie on this layer
EMAIL = "taalkeuze@example.be"  # an account of this test's own: its stored language changes here


@pytest.fixture(scope="module")
def polyglot(server):
    _cli(server.env, "users", "create", EMAIL, "--password", PASSWORD, "--display-name", "Polyglot")
    return EMAIL


def choose_language_with_the_keyboard(page, code: str) -> None:
    """Tab to the switcher's button for a language (as a keyboard user does) and press Enter."""
    target = f".mapsvc-languages button[lang='{code}']"
    page.keyboard.press("Escape")  # close the popup a test opened
    page.locator(".leaflet-popup").wait_for(state="detached")
    skip = page.locator(".mapsvc-skip").first  # the page's first stop, where Tab starts on a fresh page
    skip.focus()
    page.wait_for_function("document.activeElement.classList.contains('mapsvc-skip')")
    visited = []
    for _ in range(40):
        page.keyboard.press("Tab")
        visited.append(page.evaluate("document.activeElement.outerHTML.slice(0, 80)"))
        if page.evaluate(f"document.activeElement.matches(\"{target}\")"):
            break
    else:
        pytest.fail(f"the {code} button cannot be reached with Tab: {visited}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_function("window.mapsvcPinsDrawn !== undefined")


def interface(page, spot_free, spot_pin) -> dict[str, str]:
    """Read the words a person meets: the legend, the new-pin form, an existing pin's popup."""
    words = {"lang": page.evaluate("document.documentElement.lang"),
             "legend": page.locator("#mapsvc-legend-heading").inner_text(),
             "current": page.locator(".mapsvc-languages [aria-current='true']").inner_text()}
    click_map_at(page, spot_free)
    panel = page.locator("#mapsvc-form-panel")
    panel.locator("#mapsvc-f-title").wait_for()
    words["form"] = panel.inner_text()
    panel.locator("button[type=button]").last.click()  # cancel
    panel.wait_for(state="hidden")
    words["popup"] = open_pin(page, spot_pin).inner_text()
    return words


def test_switching_language_with_the_keyboard(server, page, spots, polyglot):
    page.goto(f"{server.base}/login")
    page.fill("#email", polyglot)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    open_map(page, server.base + PAGE)
    dutch = interface(page, spots.free[0], spots.isolated[0])
    assert dutch["lang"] == "nl" and dutch["legend"] == "Legende" and dutch["current"] == "Nederlands"
    assert "Nieuwe pin" in dutch["form"] and "Titel" in dutch["form"] and "steun" in dutch["popup"]

    choose_language_with_the_keyboard(page, "fr")
    french = interface(page, spots.free[0], spots.isolated[0])
    assert french["lang"] == "fr" and french["legend"] == "Légende" and french["current"] == "Français"
    assert "Nouvelle épingle" in french["form"] and "Titre" in french["form"] and "Placer l'épingle" in french["form"]
    assert "soutien" in french["popup"] and "Soutenir cette proposition" in french["popup"]
    assert "steun" not in french["popup"]

    page.reload()
    page.wait_for_function("window.mapsvcPinsDrawn !== undefined")
    assert page.evaluate("document.documentElement.lang") == "fr"  # remembered
    assert page.locator("#mapsvc-legend-heading").inner_text() == "Légende"

    choose_language_with_the_keyboard(page, "en")
    english = interface(page, spots.free[1], spots.isolated[1])
    assert english["lang"] == "en" and english["legend"] == "Legend" and english["current"] == "English"
    assert "New pin" in english["form"] and "Title" in english["form"] and "Drop pin" in english["form"]
    assert "Support this suggestion" in english["popup"] and "supporter" in english["popup"]
    assert page.watch.errors == []

    from mapsvc.storage.models import User

    database = server.database()
    try:
        with database.sessions() as session:
            assert session.query(User).filter_by(email=polyglot).one().locale == "en"  # stored for the account
    finally:
        database.dispose()


def test_an_anonymous_visitor_gets_english_remembered_on_the_embed(server, page):
    page.goto(f"{server.base}/embed/poperinge/unpaving-spots")
    page.wait_for_function("window.mapsvcPinsDrawn !== undefined")
    link = page.locator(".mapsvc-languages a[lang='en']")
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_function("window.mapsvcPinsDrawn !== undefined")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator(".mapsvc-open-full").inner_text() == "Open the full map"
    page.goto(f"{server.base}/embed/poperinge/unpaving-spots")  # without ?lang=: the cookie
    assert page.evaluate("document.documentElement.lang") == "en"

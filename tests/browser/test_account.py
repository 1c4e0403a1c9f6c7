"""The account page in Chromium: axe-core finds no serious or critical problem, and the keyboard alone switches
the language and deletes the account. Uses accounts of its own."""

from __future__ import annotations

from tests.browser.conftest import PASSWORD
from tests.browser.helpers import focused, log_in_by_keyboard, make_account, tab_to


def test_axe_finds_no_serious_or_critical_problem_on_the_account_page(server, page, axe_violations):
    name = make_account(server, "account-axe")
    log_in_by_keyboard(page, server, name, "/account")
    assert page.locator("h1").inner_text() == "Mijn account"
    assert axe_violations(page) == []
    assert page.watch.errors == []


def test_the_keyboard_alone_switches_language_and_deletes_the_account(server, page):
    name = make_account(server, "account-keys")
    log_in_by_keyboard(page, server, name, "/account")

    tab_to(page, "#locale-nl")
    page.keyboard.press("ArrowDown")           # radio group: the arrow moves to and picks Français
    assert focused(page, "#locale-fr")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Mon compte"
    assert any(c["name"] == "mapsvc_lang" and c["value"] == "fr" for c in page.context.cookies())

    tab_to(page, "#delete-password")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/account/deleted")
    assert page.locator("h1").inner_text() == "Votre compte est supprimé"
    assert page.request.get(f"{server.base}/api/me").json() == {"user": None}

"""Moderation as people do it in Chromium: a resident flags a pin from its popup, an official finds it first on
the moderation page and hides it with a reason using the keyboard, and the pin leaves the public map and list.
Uses Beringen's charging requests (no other browser test looks at them) and accounts of its own; the hidden
pin is put back at the end."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_map
from tests.browser.helpers import log_in_by_keyboard, make_account, tab_to, wait_for_focus

PLATFORM, LAYER = "beringen", "charging-requests"
PAGE = f"/p/{PLATFORM}/{LAYER}"
MODERATION = f"{PAGE}/moderation"
API = f"/api/platforms/{PLATFORM}/layers/{LAYER}"
FLAG_REASON = "Dit is reclame voor een garage, geen voorstel."
HIDE_REASON = "Reclame: geen voorstel voor een laadpaal."


@pytest.fixture(scope="module")
def people(server) -> dict[str, str]:
    return {"resident": make_account(server, "melder"),
            "official": make_account(server, "moderator", "--role", "official", "--platform", PLATFORM)}


@pytest.fixture
def restored(server):
    """Collect the pins the test hides; show them again afterwards (with no reason), whatever happened."""
    hidden: list[int] = []
    yield hidden
    from mapsvc.storage.models import Feature

    database = server.database()
    try:
        with database.transaction() as session:
            for feature in session.query(Feature).filter(Feature.id.in_(hidden)):
                feature.visibility, feature.moderation_reason = "visible", None
                feature.moderated_at = feature.moderated_by = None
    finally:
        database.dispose()


def public_list(page, server, sort: str = "votes") -> dict:
    """The layer's whole public list (what the list view pages through), as an anonymous visitor gets it."""
    answer = page.request.get(f"{server.base}{API}/list?limit=200&sort={sort}")
    assert answer.ok
    return answer.json()


def row_ids(page) -> list[int]:
    return [int(i) for i in page.locator("#mapsvc-list tbody tr[data-feature-id]")
            .evaluate_all("rows => rows.map(r => r.dataset.featureId)")]


def test_a_flagged_pin_is_hidden_by_an_official_and_leaves_the_public_map(server, page, people, restored,
                                                                          axe_violations):
    before = public_list(page, server)
    assert before["next_offset"] is None       # the whole layer fits one answer: absence below means something

    # A resident opens the second most supported suggestion from the list and reports it from its popup.
    log_in_by_keyboard(page, server, people["resident"], PAGE)
    page.wait_for_function("window.mapsvcPinsDrawn !== undefined")
    page.wait_for_selector("#mapsvc-list tbody tr[data-feature-id]")
    page.evaluate("window.mapsvc.map.setZoom(17, {animate: false})")   # single pins, no groups
    chosen = page.locator("#mapsvc-list tbody tr[data-feature-id]").nth(1)
    feature_id = int(chosen.get_attribute("data-feature-id"))
    assert feature_id == before["items"][1]["id"]
    # Unflagged, the queue would show the newest pin first: so "first" below is the flag's doing.
    assert public_list(page, server, "newest")["items"][0]["id"] != feature_id
    chosen.locator("button.mapsvc-list-show").click()
    popup = page.locator(f".leaflet-popup .mapsvc-popup[data-feature-id='{feature_id}']")
    popup.wait_for()
    title = popup.locator("h3").inner_text()
    popup.get_by_role("button", name="Meld deze pin").click()
    wait_for_focus(page, f"#mapsvc-flag-reason-{LAYER}-{feature_id}")
    page.keyboard.type(FLAG_REASON)
    popup.get_by_role("button", name="Melding versturen").click()
    popup.get_by_text("Bedankt voor je melding.").wait_for()
    assert page.watch.errors == [] and page.watch.dialogs == []

    # The official finds it at the top of the moderation page, with the resident's reason.
    page.context.clear_cookies()
    restored.append(feature_id)
    log_in_by_keyboard(page, server, people["official"], MODERATION)
    assert page.url.endswith(MODERATION)
    rows = page.locator("table.mod-table tbody tr")
    assert rows.first.get_attribute("id") == f"pin-{feature_id}"
    assert "mod-flagged" in rows.first.get_attribute("class")
    assert title in rows.first.locator("th").inner_text()
    assert rows.first.locator(".mod-reasons li").all_inner_texts() == [FLAG_REASON]
    assert page.locator("table.mod-table tbody tr.mod-flagged").count() == 1
    assert axe_violations(page) == []

    # ... and hides it with a reason, by keyboard alone.
    tab_to(page, f"#reason-{feature_id}")
    page.keyboard.type(HIDE_REASON)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Verbergen"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"#pin-{feature_id}")
    assert page.locator("p[role=status]").inner_text() == "De pin is verborgen."
    row = page.locator(f"#pin-{feature_id}")
    assert "verborgen" in row.inner_text() and f"Reden: {HIDE_REASON}" in row.inner_text()
    assert row.locator(".mod-reasons").count() == 0                     # the flag is dealt with
    assert axe_violations(page) == []
    assert page.watch.errors == []

    # Gone for the public: not on the map, not in the list.
    page.context.clear_cookies()
    after = public_list(page, server)
    assert after["total"] == before["total"] - 1
    assert [i["id"] for i in after["items"]] == [i["id"] for i in before["items"] if i["id"] != feature_id]
    open_map(page, f"{server.base}{PAGE}")
    page.wait_for_selector("#mapsvc-list tbody tr[data-feature-id]")
    assert row_ids(page)[:2] == [before["items"][0]["id"], before["items"][2]["id"]]   # it left the list view
    drawn = page.evaluate(f"[...window.mapsvc.layers.values()].map(s => [s.pins.size, s.pins.has({feature_id})])")
    assert drawn == [[after["total"], False]]
    assert page.locator(f".mapsvc-pin[data-feature-id='{feature_id}']").count() == 0
    assert page.watch.errors == []


def test_axe_on_the_updates_and_announcements_pages(server, page, people, axe_violations):
    log_in_by_keyboard(page, server, people["official"], "/account/updates")
    assert page.url.endswith("/account/updates")
    assert axe_violations(page) == []
    page.goto(f"{server.base}/p/{PLATFORM}/announcements")
    assert page.locator("form").count() > 0
    assert axe_violations(page) == []
    assert page.watch.errors == []

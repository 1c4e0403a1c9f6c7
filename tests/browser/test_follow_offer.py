"""After a vote the map offers to follow the layer (never subscribes by itself); one click follows it."""

from __future__ import annotations

from tests.browser.conftest import PASSWORD, _cli, open_map
from tests.browser.helpers import open_pin

LAYER_API = "/api/platforms/poperinge/layers/unpaving-spots"


def test_a_vote_offers_to_follow_the_map(server, page, spots):
    email = "volger@example.be"  # an account of this test only: the shared sample's people stay as they were
    _cli(server.env, "users", "create", email, "--password", PASSWORD, "--display-name", "Volger")
    page.goto(f"{server.base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    open_map(page, f"{server.base}/p/poperinge/unpaving-spots")
    spot = spots.isolated[1]
    try:
        open_pin(page, spot).locator(".mapsvc-vote").click()
        status = page.locator("#mapsvc-status")
        offer = status.get_by_role("button", name="Volg deze kaart")
        offer.wait_for()
        assert "Wil je op de hoogte blijven van deze kaart?" in status.inner_text()
        assert status.get_attribute("role") == "status"  # read out by screen readers
        assert page.request.get(f"{server.base}/api/me/follows").json()["follows"] == []  # only asked
        offer.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('mapsvc-status').textContent.includes('Je volgt deze kaart.')")
        follows = page.request.get(f"{server.base}/api/me/follows").json()["follows"]
        assert [(f["layer"], f["feature"]) for f in follows] == [("unpaving-spots", None)]
    finally:
        csrf = {"X-CSRFToken": page.request.get(f"{server.base}/api/me").json().get("csrf_token", "")}
        page.request.delete(f"{server.base}{LAYER_API}/features/{spot.id}/vote", headers=csrf)
        page.request.delete(f"{server.base}{LAYER_API}/follow", headers=csrf)

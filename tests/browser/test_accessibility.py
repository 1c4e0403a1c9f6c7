"""Accessibility in Chromium: axe-core finds no serious or critical problem on the pages, and a resident does
everything with the keyboard alone (log in, place a pin by coordinates or by address, find it in the list,
vote from the list). Uses Kapelle-op-den-Bos' charging requests and accounts of its own (test_pins uses Poperinge)."""

from __future__ import annotations

import numpy as np
import pytest
from geoalchemy2.shape import to_shape
from shapely import Point

from tests.browser.conftest import PASSWORD, _cli, open_map
from tests.browser.helpers import focused, log_in_by_keyboard, metres, tab_to, wait_for_focus
from tests.support.nominatim_standin import PLACES

PLATFORM, LAYER = "kapelle-op-den-bos", "charging-requests"
PAGE = f"/p/{PLATFORM}/{LAYER}"
EMBED = f"/embed/{PLATFORM}/{LAYER}"
API = f"/api/platforms/{PLATFORM}/layers/{LAYER}"
ADDRESSES = [p for p in PLACES if "Kapelle-op-den-Bos" in p["display_name"] and "broken" not in p["display_name"]]


@pytest.fixture(scope="module")
def keyboard_user(server):
    """A resident of our own (votes budget untouched by other tests)."""
    email = "keyboard@example.be"
    _cli(server.env, "users", "create", email, "--password", PASSWORD, "--display-name", "Toetsenbord")
    server.users["keyboard"] = email
    return "keyboard"


@pytest.fixture(scope="module")
def free_spot(server) -> tuple[float, float]:
    """A place inside Kapelle-op-den-Bos, more than 150 m from every charging request (no duplicate offer)."""
    from mapsvc.services.catalogue import get_layer
    from mapsvc.storage.models import Feature

    database = server.database()
    try:
        with database.sessions() as session:
            platform, layer = get_layer(session, PLATFORM, LAYER)
            boundary = to_shape(platform.boundary)
            points = [to_shape(f.geom) for f in session.query(Feature).filter_by(layer_id=layer.id)]
    finally:
        database.dispose()
    points += [Point(float(p["lon"]), float(p["lat"])) for p in ADDRESSES]   # the address test's pin goes there
    lons, lats = np.array([p.x for p in points]), np.array([p.y for p in points])
    inner = boundary.buffer(-0.004)
    minx, miny, maxx, maxy = inner.bounds
    for lat in np.linspace(miny, maxy, 30):
        for lon in np.linspace(minx, maxx, 30):
            far = metres(lon, lat, lons, lats).min()
            if inner.contains(Point(lon, lat)) and far > 150:
                return round(float(lat), 5), round(float(lon), 5)
    raise AssertionError("no free spot in Kapelle-op-den-Bos")


def wait_for_list(page) -> None:
    page.wait_for_function("window.mapsvcPinsDrawn !== undefined")
    page.wait_for_selector("#mapsvc-list tbody tr[data-feature-id]")


@pytest.mark.parametrize("path", ["/p/poperinge", PAGE, EMBED, "/login"])
def test_axe_finds_no_serious_or_critical_problem(server, page, axe_violations, path):
    page.goto(f"{server.base}{path}")
    if path != "/login":
        page.wait_for_function("window.mapsvcPinsDrawn !== undefined")
    if path in (PAGE, EMBED):
        wait_for_list(page)
    assert axe_violations(page) == []
    assert page.watch.errors == []


def test_axe_on_the_layer_page_of_a_logged_in_resident(server, page, axe_violations, keyboard_user):
    log_in_by_keyboard(page, server, keyboard_user, PAGE)
    wait_for_list(page)
    page.wait_for_selector("#mapsvc-list button[data-role=vote]")
    assert axe_violations(page) == []


def test_the_keyboard_alone_places_a_pin_and_votes_from_the_list(server, page, keyboard_user, free_spot):
    log_in_by_keyboard(page, server, keyboard_user, PAGE)
    wait_for_list(page)
    assert "Ingelogd als Toetsenbord" in page.locator("#mapsvc-auth").inner_text()

    # The second skip link leads past the map to the pin form and the list.
    tab_to(page, "a.mapsvc-skip[href='#mapsvc-access']", limit=5)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused(page, "#mapsvc-lat")
    lat, lon = free_spot
    page.keyboard.type(f"{lat}, {lon}")          # both numbers in one box
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'mapsvc-f-title'")
    assert f"{lat:.5f}" in page.locator("#mapsvc-form-panel .mapsvc-location").inner_text()
    page.keyboard.type("Laadpaal via het toetsenbord")
    page.keyboard.press("Enter")                 # submits the pin form
    page.locator("#mapsvc-form-panel").wait_for(state="hidden")
    wait_for_focus(page, "#mapsvc-coords-submit")   # the focus comes back where the form was opened

    # The new pin is in the list (newest first, chosen with the keyboard on the date column).
    tab_to(page, "button.mapsvc-sort[data-sort=newest]")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('mapsvc-sort-date-th').getAttribute('aria-sort') === 'descending'")
    first = page.locator("#mapsvc-list tbody tr").first
    first.locator("text=Laadpaal via het toetsenbord").wait_for()
    assert "jouw pin" in first.inner_text()
    mine_id = int(first.get_attribute("data-feature-id"))
    stored = page.request.get(f"{server.base}{API}/features/{mine_id}").json()
    assert stored["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)

    # Support another suggestion from the list: its count goes up, and down again on withdrawing.
    tab_to(page, "#mapsvc-list tr:not(.is-mine) button[data-role=vote]")
    row_id = page.evaluate("document.activeElement.closest('tr').dataset.featureId")
    row = page.locator(f"#mapsvc-list tr[data-feature-id='{row_id}']")
    before = int(row.locator(".mapsvc-list-votes").get_attribute("data-votes"))
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Steun dit voorstel: ")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector(\"#mapsvc-list tr[data-feature-id='{row_id}'] .mapsvc-list-votes\")"
                           f".dataset.votes === '{before + 1}'")
    assert "je steunt dit" in row.inner_text()
    assert "Je steunt nu" in page.locator("#mapsvc-list-status").inner_text()
    assert focused(page, f"tr[data-feature-id='{row_id}'] button[data-role=vote]")   # the focus stays on the row
    counted = page.request.get(f"{server.base}{API}/features/{row_id}").json()["properties"]["vote_count"]
    assert counted == before + 1
    page.keyboard.press("Enter")                 # now "Steun intrekken"
    page.wait_for_function(f"document.querySelector(\"#mapsvc-list tr[data-feature-id='{row_id}'] .mapsvc-list-votes\")"
                           f".dataset.votes === '{before}'")
    assert page.watch.errors == [] and page.watch.dialogs == []


def assert_free_for_a_pin(server, lon: float, lat: float) -> None:
    """The premise of placing a pin there without the duplicate offer: inside the platform, no request nearby."""
    from mapsvc.services.catalogue import get_layer
    from mapsvc.storage.models import Feature

    database = server.database()
    try:
        with database.sessions() as session:
            platform, layer = get_layer(session, PLATFORM, LAYER)
            inside = to_shape(platform.boundary).contains(Point(lon, lat))
            points = [to_shape(f.geom) for f in session.query(Feature).filter_by(layer_id=layer.id)]
            radius = layer.duplicate_distance_m
    finally:
        database.dispose()
    nearest = metres(lon, lat, [p.x for p in points], [p.y for p in points]).min()
    assert inside and nearest > radius + 10, (inside, nearest, radius)


def test_the_keyboard_alone_places_a_pin_by_address(server, page, keyboard_user):
    place = ADDRESSES[1]                         # Kerkstraat 40, Nieuwenrode
    lat, lon = float(place["lat"]), float(place["lon"])
    assert_free_for_a_pin(server, lon, lat)
    log_in_by_keyboard(page, server, keyboard_user, PAGE)
    wait_for_list(page)
    tab_to(page, "#mapsvc-address")
    page.keyboard.type("Kerkstraat")
    page.keyboard.press("Enter")
    wait_for_focus(page, ".mapsvc-address-choice")
    choices = page.locator(".mapsvc-address-choice").all_inner_texts()
    # Poperinge's Kerkstraat lies outside Kapelle-op-den-Bos, and the broken record has no coordinates.
    assert choices == [p["display_name"] for p in ADDRESSES]
    page.keyboard.press("Tab")
    second = "li:nth-child(2) > .mapsvc-address-choice"
    assert focused(page, second)
    page.keyboard.press("Enter")                 # the second address
    wait_for_focus(page, "#mapsvc-f-title")
    assert "50.99300, 4.34450" in page.locator("#mapsvc-form-panel .mapsvc-location").inner_text()
    page.keyboard.press("Escape")                # changed my mind: back to the address ...
    page.locator("#mapsvc-form-panel").wait_for(state="hidden")
    wait_for_focus(page, second)
    page.keyboard.press("Enter")                 # ... and on second thought, place it there after all
    wait_for_focus(page, "#mapsvc-f-title")
    page.keyboard.type("Laadpaal aan de Kerkstraat")
    page.keyboard.press("Enter")                 # submits the pin form
    page.locator("#mapsvc-form-panel").wait_for(state="hidden")
    wait_for_focus(page, second)                 # the focus comes back where the form was opened

    listed = page.request.get(f"{server.base}{API}/list?sort=newest&limit=10").json()["items"]
    mine = [item for item in listed if item["mine"] and item["title"] == "Laadpaal aan de Kerkstraat"]
    assert len(mine) == 1
    stored = page.request.get(f"{server.base}{API}/features/{mine[0]['id']}").json()
    assert stored["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    assert stored["properties"]["title"] == "Laadpaal aan de Kerkstraat"
    assert page.watch.errors == [] and page.watch.dialogs == []


def test_coordinates_that_are_not_numbers_are_explained(server, page, keyboard_user):
    log_in_by_keyboard(page, server, keyboard_user, PAGE)
    wait_for_list(page)
    tab_to(page, "#mapsvc-lat")
    page.keyboard.type("vijftig")
    page.keyboard.press("Enter")
    assert "decimale graden" in page.locator("#mapsvc-coords-error").inner_text()
    assert focused(page, "#mapsvc-lat[aria-invalid=true]")
    assert page.locator("#mapsvc-form-panel").is_hidden()


def test_pins_are_buttons_with_names_and_enter_opens_them(server, page):
    open_map(page, f"{server.base}{PAGE}")
    wait_for_list(page)
    page.evaluate("window.mapsvc.map.setZoom(17, {animate: false})")   # single pins, no groups
    tab_to(page, "#mapsvc-list button.mapsvc-list-show")
    page.keyboard.press("Enter")                 # "show on the map" centres it and opens its popup
    popup = page.locator(".leaflet-popup .mapsvc-popup")
    popup.wait_for()
    assert page.evaluate("document.activeElement.classList.contains('mapsvc-popup')")
    feature_id = popup.get_attribute("data-feature-id")
    title = popup.locator("h3").inner_text()
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    wait_for_focus(page, "button.mapsvc-list-show")   # back in the list

    marker = page.locator(f".leaflet-marker-icon:has(.mapsvc-pin[data-feature-id='{feature_id}'])")
    assert marker.get_attribute("role") == "button" and marker.get_attribute("tabindex") == "0"
    assert marker.get_attribute("aria-label").startswith(f"{title} – ")   # title, status and support
    assert "steun" in marker.get_attribute("aria-label")
    marker.focus()
    page.keyboard.press("Enter")
    popup.wait_for()
    assert popup.get_attribute("data-feature-id") == feature_id
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    wait_for_focus(page, f".leaflet-marker-icon:has(.mapsvc-pin[data-feature-id='{feature_id}'])")


def test_groups_of_pins_have_names_and_zoom_in_with_enter(server, page):
    open_map(page, f"{server.base}/p/beringen/unpaving-spots")     # 1,620 pins: server groups
    disc = page.locator(".leaflet-marker-icon.mapsvc-server-cluster").first
    name = disc.inner_text()
    assert "pinnen" in name
    zoom = page.evaluate("window.mapsvc.map.getZoom()")
    disc.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"window.mapsvc.map.getZoom() > {zoom}")

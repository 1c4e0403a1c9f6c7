"""The map pages in headless Chromium: pins and clusters, layer toggles, escaping, embedding, no CDN."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlsplit

import pytest
from shapely import Point

from tests.browser.conftest import BIN, TILE_HOST, HostSite, free_port, open_map, set_embed_origins, wait_for

EVIL = "<img src=x onerror=\"alert('xss')\">"
EVIL_TEXT = "<script>alert('tekst')</script> & \"meer\""
CHROME = ".mapsvc-top, h1, .mapsvc-side:not(.mapsvc-embed-side), .mapsvc-legend, footer"  # a full page's chrome


@pytest.fixture(scope="module")
def evil_pin(server):
    """A pin whose title and description are HTML that must never run (made through the storage layer)."""
    from mapsvc.services.catalogue import get_layer
    from mapsvc.storage.features import insert_features
    from mapsvc.storage.models import Feature

    database = server.database()
    try:
        with database.transaction() as session:
            platform, layer = get_layer(session, "poperinge", "unpaving-spots")
            lon, lat = platform.view_lon, platform.view_lat
            insert_features(session, layer.id, [{
                "geometry": Point(lon, lat), "properties": {"title": EVIL, "description": EVIL_TEXT},
                "status": "submitted", "source": "browser test", "is_demo": False}])
            feature_id = session.query(Feature.id).filter_by(source="browser test").scalar()
    finally:
        database.dispose()
    return feature_id, lon, lat


def markers(page, selector: str) -> int:
    """Count the map's markers matching a selector (the legend's sample symbols are not markers)."""
    return page.locator(", ".join(f".leaflet-marker-pane {part}" for part in selector.split(", "))).count()


def test_the_map_shows_pins_and_client_clusters(server, page):
    open_map(page, f"{server.base}/p/poperinge")
    assert markers(page, ".mapsvc-pin[data-layer='charging-requests']") > 10
    assert markers(page, ".mapsvc-cluster-disc[data-layer='charging-requests']") > 0  # close pins, grouped
    assert markers(page, ".mapsvc-pin[data-layer='charging-points']") >= 1  # real OSM charging points
    assert page.watch.errors == []


def test_a_large_layer_comes_as_server_clusters(server, page):
    open_map(page, f"{server.base}/p/beringen/unpaving-spots")
    discs = page.locator(".mapsvc-server-cluster .mapsvc-cluster-disc")
    assert discs.count() > 3 and markers(page, ".mapsvc-pin") == 0
    total = sum(int(n) for n in discs.evaluate_all("els => els.map(e => e.dataset.count)"))
    assert total == 1620  # 1,500 simulated + the sample's 120: every pin counted once
    zoom = page.evaluate("window.mapsvc.map.getZoom()")
    biggest = max(range(discs.count()), key=lambda i: int(discs.nth(i).get_attribute("data-count")))
    discs.nth(biggest).click()
    page.wait_for_function(f"window.mapsvc.map.getZoom() > {zoom}")
    page.evaluate("window.mapsvc.map.setZoom(18)")
    page.wait_for_selector(".leaflet-marker-pane .mapsvc-pin")


def test_layers_can_be_switched_off_and_on(server, page):
    open_map(page, f"{server.base}/p/poperinge")
    requests_layer = "[data-layer='charging-requests']"
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="Aanvragen publieke laadpaal").locator("input")
    assert markers(page, requests_layer) > 0
    toggle.uncheck()
    page.wait_for_function(f"document.querySelectorAll(\".leaflet-marker-pane {requests_layer}\").length === 0")
    assert markers(page, "[data-layer='unpaving-spots']") > 0  # the others stay
    toggle.check()
    page.wait_for_selector(f".leaflet-marker-pane {requests_layer}")


def test_legend_and_demo_label(server, page):
    open_map(page, f"{server.base}/p/poperinge")
    assert "gegenereerd door een simulator" in page.locator(".mapsvc-demo-notice").inner_text()
    legend = page.locator(".mapsvc-legend").inner_text()
    assert "Ontharden en vergroenen" in legend and "Grens van Poperinge" in legend
    assert "Statbel" in page.locator(".leaflet-control-attribution").inner_text()


def test_popups_show_html_as_text(server, page, evil_pin):
    feature_id, lon, lat = evil_pin
    open_map(page, f"{server.base}/p/poperinge/unpaving-spots")
    page.evaluate(f"window.mapsvc.map.setView([{lat}, {lon}], 19)")
    pin = page.locator(f".mapsvc-pin[data-feature-id='{feature_id}']")
    pin.wait_for()
    assert pin.locator("xpath=..").get_attribute("title") == EVIL  # the marker's tooltip, as text
    pin.click()
    popup = page.locator(f".leaflet-popup .mapsvc-popup[data-feature-id='{feature_id}']")
    assert popup.locator("h3").inner_text() == EVIL
    page.wait_for_function("document.querySelector('.leaflet-popup .mapsvc-detail p') !== null")
    assert popup.locator(".mapsvc-detail p").first.inner_text() == EVIL_TEXT
    assert popup.locator("img, script").count() == 0
    page.wait_for_timeout(300)
    assert page.watch.dialogs == [] and page.watch.errors == []
    assert not [u for u in page.watch.requests if urlsplit(u).path.endswith("/x")]


def test_the_embed_page_has_no_chrome_and_frames_only_for_its_origins(server, page):
    response = open_map(page, f"{server.base}/embed/poperinge/unpaving-spots")
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert "x-frame-options" not in response.headers
    # No site chrome: no page header, heading, legend panel or footer. (The layer's news may sit beside the map.)
    assert page.locator(CHROME).count() == 0
    bar = page.locator(".mapsvc-embed-bar")
    assert bar.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(122, 31, 61)"  # Poperinge's colour
    assert page.locator(".leaflet-marker-pane .mapsvc-pin").first.evaluate("e => e.style.background") == "rgb(122, 31, 61)"

    embed = f"{server.base}/embed/poperinge/unpaving-spots"
    with HostSite(embed) as allowed, HostSite(embed) as stranger:
        set_embed_origins(server, "poperinge", [allowed.origin])
        try:
            page.goto(allowed.origin)
            frame = page.frame_locator("#map")
            frame.locator(".leaflet-marker-pane .mapsvc-pin").first.wait_for()
            page.goto(stranger.origin)
            page.wait_for_timeout(1500)
            child = page.frames[1]
            assert not child.url.startswith(server.base) or child.locator(".leaflet-container").count() == 0
        finally:
            set_embed_origins(server, "poperinge", [])


def test_the_full_page_has_the_chrome_the_embed_leaves_out(server, page):
    open_map(page, f"{server.base}/p/poperinge/unpaving-spots")
    assert page.locator(CHROME).count() >= 4    # header, h1, side panel, legend: the embed test's selector still bites


def test_no_requests_leave_the_server_except_tiles(server, page):
    open_map(page, f"{server.base}/p/brussels")
    page.evaluate("window.mapsvc.map.setView([50.85, 4.35], 15)")
    page.wait_for_timeout(800)
    outside = {urlsplit(u).netloc for u in page.watch.requests
               if not u.startswith(server.base + "/") and not u.startswith("data:")}
    assert outside <= {TILE_HOST}
    assert any("/assets/vendor/leaflet-1.9.4/leaflet.js" in u for u in page.watch.requests)


def test_the_map_works_without_tiles(server, page):
    page.route(re.compile(r"^https?://[^/]*" + re.escape(TILE_HOST)), lambda route: route.abort("internetdisconnected"))
    open_map(page, f"{server.base}/p/kapelle-op-den-bos")
    assert markers(page, ".mapsvc-pin, .mapsvc-cluster-disc") > 10
    page.wait_for_function("document.getElementById('mapsvc-status').textContent.includes('Zonder achtergrondkaart')")
    assert page.watch.errors == []


def test_the_map_works_on_an_instance_configured_without_tiles(server, page):
    """MAPSVC_TILE_URL empty: no tile layer at all, so the map itself must carry its zoom range."""
    port = free_port()
    process = subprocess.Popen([str(BIN / "mapsvc"), "serve", "--port", str(port)],
                               env={**server.env, "MAPSVC_TILE_URL": "", "MAPSVC_MAIL_WORKER_THREAD": "false"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/platforms")
        open_map(page, f"{base}/p/kapelle-op-den-bos/christmas-village")
        assert markers(page, ".mapsvc-pin, .mapsvc-cluster-disc") > 5
        assert not any(TILE_HOST in u for u in page.watch.requests)
        assert page.watch.errors == []
    finally:
        process.terminate()
        process.wait(timeout=10)

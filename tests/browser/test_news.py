"""The embed page in Chromium shows a layer's timeline with the current phase and its news, rendered from
Markdown safely: script in an official's text stays text and never runs."""

from __future__ import annotations

import json
import urllib.request
from datetime import date, timedelta

import pytest

from tests.browser.conftest import PASSWORD, _cli, open_map
from tests.browser.helpers import settle

PLATFORM, LAYER = "kapelle-op-den-bos", "unpaving-spots"  # no other browser test looks at this layer
API = f"/api/platforms/{PLATFORM}/layers/{LAYER}"
EVIL = ("Lees het **verslag** van de *werkgroep*.\n\n<script>alert('script')</script>\n\n"
        "<img src=x onerror=\"alert('img')\"> [klik](javascript:alert('link')) "
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n"
        "- een\n- [twee](https://example.org/twee)")


def _send(server, method: str, path: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(f"{server.base}{path}", method=method, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


@pytest.fixture(scope="module")
def news_layer(server):
    """An official of Kapelle-op-den-Bos writes a timeline and a news item through the API."""
    email = "news-official@example.be"
    _cli(server.env, "users", "create", email, "--password", PASSWORD, "--role", "official", "--platform", PLATFORM)
    token = _cli(server.env, "users", "token", email, "--name", "browser test").strip().splitlines()[-1]
    today = date.today()  # only to place the phases around now; nothing asserts on the clock
    _send(server, "PUT", f"{API}/timeline", token, {"phases": [
        {"phase": "inform", "starts_on": (today - timedelta(days=90)).isoformat(),
         "ends_on": (today - timedelta(days=31)).isoformat()},
        {"phase": "consult", "starts_on": (today - timedelta(days=30)).isoformat(),
         "ends_on": (today + timedelta(days=30)).isoformat(), "note": {"nl": "Zet een **pin**"}},
        {"phase": "decide", "starts_on": (today + timedelta(days=31)).isoformat()},
    ]})
    return _send(server, "POST", f"{API}/news", token, {
        "title": {"nl": "Werkgroep <b>ontharding</b>"}, "body": {"nl": EVIL},
        "link_url": "https://example.org/verslag.pdf", "published_on": "2026-10-01"})


def test_the_embed_shows_the_timeline_and_safe_news(server, page, news_layer, axe_violations):
    open_map(page, f"{server.base}/embed/{PLATFORM}/{LAYER}")
    side = page.locator("aside.mapsvc-embed-side")
    assert side.is_visible()
    box, map_box = side.bounding_box(), page.locator(".leaflet-container").bounding_box()
    assert box["x"] >= map_box["x"] + map_box["width"] - 1  # beside the map, not over it

    phases = side.locator("ol.mapsvc-phases > li")
    assert phases.count() == 3
    current = side.locator("ol.mapsvc-phases > li[aria-current='step']")
    assert current.count() == 1 and current.get_attribute("data-phase") == "consult"
    assert "Inspraak" in current.inner_text() and "nu bezig" in current.inner_text()
    assert current.locator("strong").inner_text() == "pin"

    item = side.locator(f"article[data-news-id='{news_layer['id']}']")
    assert item.locator("h3").inner_text() == "Werkgroep <b>ontharding</b>"  # the title is text
    assert item.locator("time").inner_text() == "1 oktober 2026"
    text = item.locator(".mapsvc-richtext")
    assert text.locator("strong").inner_text() == "verslag" and text.locator("em").inner_text() == "werkgroep"
    assert "<script>alert('script')</script>" in text.inner_text()
    assert text.locator("script, img, iframe").count() == 0
    links = text.locator("a")
    assert links.count() == 1 and links.first.get_attribute("href") == "https://example.org/twee"
    assert links.first.get_attribute("rel") == "nofollow noopener"
    assert links.first.get_attribute("target") == "_blank"
    assert item.locator("a[href='https://example.org/verslag.pdf']").count() == 1

    settle(page)  # an onerror handler or a script would have run by now
    assert page.watch.dialogs == [] and page.watch.errors == []
    assert not any("example.org" in url or url.endswith("/x") for url in page.watch.requests)
    assert axe_violations(page) == []  # with the timeline and the news filled in


def test_the_embed_speaks_french(server, page, news_layer):
    open_map(page, f"{server.base}/embed/{PLATFORM}/{LAYER}?lang=fr")
    side = page.locator("aside.mapsvc-embed-side")
    assert side.locator("h2").all_inner_texts() == ["Ligne du temps", "Actualités"]
    assert "Consulter" in side.locator("li[aria-current='step']").inner_text()
    assert side.locator("time").first.inner_text() == "1er octobre 2026"
    assert page.watch.dialogs == [] and page.watch.errors == []


def test_axe_on_the_embed_with_the_samples_demo_news(server, page, axe_violations):
    open_map(page, f"{server.base}/embed/kapelle-op-den-bos/christmas-village")
    side = page.locator("aside.mapsvc-embed-side")
    assert side.locator("ol.mapsvc-phases > li").count() > 0 and side.locator("article[data-news-id]").count() > 0
    page.wait_for_selector("#mapsvc-list tbody tr[data-feature-id]")
    settle(page)
    assert axe_violations(page) == []
    assert page.watch.dialogs == [] and page.watch.errors == []

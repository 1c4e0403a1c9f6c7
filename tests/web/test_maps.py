"""Map pages, embed pages and the pins endpoint, on both backends (Flask test client)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from shapely import Point

from mapsvc.spatial.grid import PIN_LIMIT, cluster_points, grid_for_view
from mapsvc.storage.features import insert_features
from mapsvc.storage.models import Layer, Platform
from tests.web.conftest import BOUNDARY, login, pin

pytestmark = pytest.mark.db

EVIL = '<img src=x onerror="window.__pwned=1">'


class Assets(HTMLParser):
    """Collect every address a page makes the browser load (scripts, styles, images, frames)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def assets_of(html: str) -> list[str]:
    parser = Assets()
    parser.feed(html)
    return parser.urls


def config_of(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="mapsvc-config">(.*?)</script>', html, re.S)
                      .group(1))


def fill(db, slug: str, points, **extra) -> None:
    with db.transaction() as session:
        layer = session.query(Layer).filter_by(slug=slug).one()
        insert_features(session, layer.id, [
            {"geometry": Point(lon, lat), "properties": {"title": extra.get("title", f"Pin {i}")},
             "status": "submitted", "source": "test", "is_demo": extra.get("demo", False)}
            for i, (lon, lat) in enumerate(points)])


def random_points(n: int, seed: int = 3) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = BOUNDARY.bounds
    return list(zip(rng.uniform(minx + 1e-4, maxx - 1e-4, n).tolist(), rng.uniform(miny + 1e-4, maxy - 1e-4, n).tolist()))


PINS = "/api/platforms/testdorp/layers/unpaving-spots/pins"


def test_many_pins_come_as_the_grid_clusters_the_pure_code_computes(client, db, testdorp):
    points = random_points(3 * PIN_LIMIT)
    fill(db, "unpaving-spots", points)
    view = (4.385, 50.885, 4.415, 50.915)
    body = client.get(f"{PINS}?zoom=15&bbox={','.join(map(str, view))}").get_json()
    assert body["mode"] == "clusters" and "pins" not in body
    grid = grid_for_view(view, 15, db.sessions().get(Platform, testdorp).view_lat)
    snapped = grid.snap(view)
    assert body["bbox"] == pytest.approx(list(snapped), abs=1e-6)
    inside = [(x, y) for x, y in points if snapped[0] <= x <= snapped[2] and snapped[1] <= y <= snapped[3]]
    expected = cluster_points(inside, grid)
    assert body["count"] == len(inside) == sum(c["count"] for c in body["clusters"])
    assert [c["count"] for c in body["clusters"]] == [c.count for c in expected]
    assert [(c["lon"], c["lat"]) for c in body["clusters"]] == \
        [(pytest.approx(c.lon, abs=1e-6), pytest.approx(c.lat, abs=1e-6)) for c in expected]


def test_the_whole_layer_without_bbox(client, db, testdorp):
    fill(db, "unpaving-spots", random_points(PIN_LIMIT + 1))
    body = client.get(f"{PINS}?zoom=12").get_json()
    assert body["mode"] == "clusters" and body["count"] == PIN_LIMIT + 1


def test_few_pins_come_one_by_one_with_counts(client, db, testdorp, people):
    fill(db, "unpaving-spots", [(4.40, 50.90), (4.401, 50.901)], title=EVIL)
    fill(db, "charging-points", [(4.40, 50.90)])  # another layer: not in this answer
    body = client.get(f"{PINS}?zoom=14").get_json()
    assert body["mode"] == "pins" and body["count"] == 2 and body["truncated"] is False
    first = body["pins"][0]
    assert first["title"] == EVIL  # JSON carries the text as it is; the page's script shows it as text
    assert set(first) == {"id", "lon", "lat", "title", "theme", "status", "vote_count", "demo", "mine", "voted"}
    assert (first["lon"], first["lat"], first["vote_count"], first["mine"], first["voted"]) == (4.40, 50.90, 0, False, False)


def test_pins_say_which_are_mine_and_which_i_support(client, db, testdorp, people):
    fill(db, "unpaving-spots", [(4.41, 50.91)])
    login(client, people["resident"].email)
    token = client.get("/api/me").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    mine = client.post("/api/platforms/testdorp/layers/unpaving-spots/features", json=pin(), headers=headers)
    assert mine.status_code == 201, mine.get_json()
    other = client.get(f"{PINS}?zoom=14").get_json()["pins"][0]
    assert client.post(f"/api/platforms/testdorp/layers/unpaving-spots/features/{other['id']}/vote",
                       headers=headers).status_code == 201
    pins = {p["id"]: p for p in client.get(f"{PINS}?zoom=14").get_json()["pins"]}
    assert pins[mine.get_json()["id"]]["mine"] is True and pins[other["id"]]["mine"] is False
    assert pins[other["id"]]["voted"] is True and pins[other["id"]]["vote_count"] == 1
    client.post("/logout", headers=headers)
    anonymous = {p["id"]: p for p in client.get(f"{PINS}?zoom=14").get_json()["pins"]}
    assert anonymous[other["id"]] == {**pins[other["id"]], "voted": False}  # the count stays, who voted does not
    assert anonymous[mine.get_json()["id"]]["mine"] is False


@pytest.mark.parametrize(("query", "status", "code"), [
    ("zoom=21", 400, "invalid_parameter"), ("zoom=x", 400, "invalid_parameter"),
    ("bbox=1,2,3", 400, "invalid_bbox"), ("zoom=12&limit=5", 400, "unknown_parameter"),
])
def test_bad_pin_queries_say_what_to_change(client, testdorp, query, status, code):
    response = client.get(f"{PINS}?{query}")
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_unknown_layer_is_a_404(client, testdorp):
    assert client.get("/api/platforms/testdorp/layers/nope/pins").status_code == 404
    assert client.get("/p/testdorp/nope").status_code == 404
    assert client.get("/embed/nope/unpaving-spots").status_code == 404


def test_hidden_layers_are_not_shown(client, db, testdorp):
    with db.transaction() as session:
        session.query(Layer).filter_by(slug="charging-points").one().is_public = False
    assert client.get("/embed/testdorp/charging-points").status_code == 404
    assert client.get("/api/platforms/testdorp/layers/charging-points/pins").status_code == 404
    slugs = [layer["slug"] for layer in config_of(client.get("/p/testdorp").get_data(as_text=True))["layers"]]
    assert slugs == ["unpaving-spots", "christmas-village"]


@pytest.mark.parametrize("path", ["/p/testdorp", "/p/testdorp/unpaving-spots", "/embed/testdorp/unpaving-spots"])
def test_pages_load_nothing_from_other_sites(client, testdorp, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    urls = assets_of(html)
    assert any(u.endswith("/leaflet.js") for u in urls) and any(u.endswith("/leaflet.markercluster.js") for u in urls)
    assert [u for u in urls if not (u.startswith("/") and not u.startswith("//")) and u != "data:,"] == []
    assert not re.search(r"cdn|jsdelivr|cdnjs|code\.jquery|bootstrapcdn|unpkg", html, re.I)
    for url in urls:
        if url.startswith("/assets/"):
            assert client.get(url).status_code == 200, url


def test_the_platform_page_lists_layers_and_demo_counts(client, db, testdorp):
    fill(db, "unpaving-spots", random_points(3), demo=True)
    html = client.get("/p/testdorp").get_data(as_text=True)
    assert "Kaart van Testdorp" in html and "Ontharden en vergroenen" in html and "waarvan 3 demodata" in html
    config = config_of(html)
    assert [layer["open"] for layer in config["layers"]] == [True, True, False]  # assets take no pins
    assert config["user"] is None and config["messages"]["error.outside_boundary"].startswith("Deze plek")
    fields = {f["name"]: f for f in config["layers"][0]["fields"]}
    assert fields["title"] == {**fields["title"], "type": "string", "required": True, "maxLength": 120, "label": "Titel"}


def test_framing_headers(client, db, testdorp):
    embed = client.get("/embed/testdorp/unpaving-spots")
    assert embed.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert "X-Frame-Options" not in embed.headers
    with db.transaction() as session:
        session.get(Platform, testdorp).embed_origins = ["https://www.testdorp.be", "bad; script-src *"]
    embed = client.get("/embed/testdorp/unpaving-spots")
    assert embed.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://www.testdorp.be"
    for page in ("/p/testdorp", "/p/testdorp/unpaving-spots"):
        headers = client.get(page).headers
        assert headers["X-Frame-Options"] == "SAMEORIGIN" and headers["Content-Security-Policy"] == "frame-ancestors 'self'"


def test_the_embed_page_has_no_site_chrome(client, testdorp):
    html = client.get("/embed/testdorp/unpaving-spots").get_data(as_text=True)
    assert 'class="mapsvc-embed-bar"' in html and "--mapsvc-primary: #123456" in html
    assert "mapsvc-side" not in html and "<h1" not in html and "<footer" not in html
    assert config_of(html)["embed"] is True and config_of(html)["layers"][0]["colour"] == "#123456"


def test_the_snippet_is_for_officials(client, db, testdorp, people):
    assert "mapsvc-snippet-code" not in client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    login(client, people["resident"].email)
    assert "mapsvc-snippet-code" not in client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    client.post("/logout", headers={"X-CSRFToken": client.get("/api/me").get_json()["csrf_token"]})
    login(client, people["official"].email)
    html = client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    snippet = re.search(r'<textarea id="mapsvc-snippet-code"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert snippet.startswith("&lt;iframe src=&#34;http://localhost/embed/testdorp/unpaving-spots&#34;")
    assert 'name="csrf-token"' in html and "Er staan nog geen websites" in html


def test_tiles_come_from_configuration(make_app, testdorp):
    none = make_app(TILE_URL="").test_client().get("/p/testdorp").get_data(as_text=True)
    assert "tile.openstreetmap.org" not in none and "L.tileLayer" not in none and config_of(none)["tiles"] is None
    # Without a tile layer the map itself carries the zoom range (markercluster needs maxZoom).
    assert '"maxZoom": 19' in none and '"minZoom": 6' in none
    own = make_app(TILE_URL="https://tiles.example.be/{z}/{x}/{y}.png", TILE_ATTRIBUTION="© <Stad>")
    html = own.test_client().get("/p/testdorp").get_data(as_text=True)
    assert "https://tiles.example.be/{z}/{x}/{y}.png" in html and "\\u0026lt;Stad\\u0026gt;" in html
    default = make_app().test_client().get("/p/testdorp").get_data(as_text=True)
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in default and "OpenStreetMap contributors" in default


def test_officials_find_the_ranking_dashboard_from_the_maps(client, db, testdorp, people):
    link = re.compile(r'href="(/p/testdorp/unpaving-spots/ranking)"')
    login(client, people["resident"].email)
    assert not link.search(client.get("/p/testdorp").get_data(as_text=True))
    assert not link.search(client.get("/p/testdorp/unpaving-spots").get_data(as_text=True))
    client.post("/logout", headers={"X-CSRFToken": client.get("/api/me").get_json()["csrf_token"]})
    login(client, people["official"].email)
    platform_page = client.get("/p/testdorp").get_data(as_text=True)
    layer_page = client.get("/p/testdorp/unpaving-spots").get_data(as_text=True)
    assert "/p/testdorp/rollout" not in platform_page          # testdorp has no charging requests
    target = link.search(platform_page).group(1)
    assert link.search(layer_page).group(1) == target
    assert client.get(target).status_code == 200

"""Helpers the browser tests share: finding places on a layer, clicking the map, and the keyboard."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from geoalchemy2.shape import to_shape
from shapely import Point

from tests.browser.conftest import PASSWORD, _cli


@dataclass(frozen=True)
class Spot:
    lon: float
    lat: float
    id: int | None = None
    title: str | None = None


@dataclass(frozen=True)
class Spots:
    free: list[Spot]        # inside the boundary, > 150 m from every pin of the layer
    outside: Spot           # just outside the boundary
    isolated: list[Spot]    # existing pins with no other pin within 40 m (clickable on their own)


def metres(lon0, lat0, lon, lat):
    """Distances in metres from (lon0, lat0) to each point (good enough within a municipality)."""
    return np.hypot((np.asarray(lon) - lon0) * 111_320 * math.cos(math.radians(lat0)),
                    (np.asarray(lat) - lat0) * 111_320)


def find_spots(server, platform_slug: str, layer_slug: str) -> Spots:
    """Find places on a layer for each scenario, from the server's own database."""
    from mapsvc.services.catalogue import get_layer
    from mapsvc.storage.models import Feature

    database = server.database()
    try:
        with database.sessions() as session:
            platform, layer = get_layer(session, platform_slug, layer_slug)
            boundary = to_shape(platform.boundary)
            rows = [(f.id, to_shape(f.geom), (f.properties or {}).get("title"))
                    for f in session.query(Feature).filter_by(layer_id=layer.id)]
    finally:
        database.dispose()
    lons = np.array([g.x for _, g, _ in rows])
    lats = np.array([g.y for _, g, _ in rows])
    inner = boundary.buffer(-0.003)
    minx, miny, maxx, maxy = inner.bounds
    free = []
    for lon in np.linspace(minx, maxx, 40):
        for lat in np.linspace(miny, maxy, 40):
            if inner.contains(Point(lon, lat)) and metres(lon, lat, lons, lats).min() > 150:
                free.append(Spot(float(lon), float(lat)))
    isolated = [Spot(g.x, g.y, fid, title) for fid, g, title in rows
                if np.sort(metres(g.x, g.y, lons, lats))[1] > 40 and inner.contains(g)]
    west = boundary.bounds[0]
    outside_lat = next(lat for lat in np.linspace(boundary.bounds[1], boundary.bounds[3], 50)[5:]
                       if not boundary.buffer(0.004).contains(Point(west - 0.001, lat)))
    assert len(free) >= 3 and len(isolated) >= 4
    return Spots(free[::max(1, len(free) // 3)][:3], Spot(west - 0.001, float(outside_lat)), isolated[:4])


def map_of(page_or_frame):
    return page_or_frame.locator(".leaflet-container")


def click_map_at(target, spot: Spot, zoom: int = 17) -> None:
    """Centre the map on a spot and click it there like a person (not on a marker)."""
    target.evaluate(f"window.mapsvc.map.setView([{spot.lat}, {spot.lon}], {zoom}, {{animate: false}})")
    target.wait_for_timeout(300)
    point = target.evaluate(f"(() => {{ const p = window.mapsvc.map.latLngToContainerPoint([{spot.lat}, {spot.lon}]);"
                            " return [p.x, p.y]; })()")
    map_of(target).click(position={"x": point[0], "y": point[1]})


def open_pin(target, spot: Spot):
    """Zoom to an existing pin, click it and return its popup."""
    target.evaluate(f"window.mapsvc.map.setView([{spot.lat}, {spot.lon}], 19, {{animate: false}})")
    marker = target.locator(f".leaflet-marker-pane .mapsvc-pin[data-feature-id='{spot.id}']")
    marker.wait_for()
    marker.click()
    popup = target.locator(f".leaflet-popup .mapsvc-popup[data-feature-id='{spot.id}']")
    popup.wait_for()
    return popup


def make_account(server, name: str, *role: str) -> str:
    """Create a test's own account <name>@example.be through the CLI (role: e.g. "--role", "official", ...)."""
    email = f"{name}@example.be"
    _cli(server.env, "users", "create", email, "--password", PASSWORD, "--display-name", name.capitalize(), *role)
    server.users[name] = email
    return name


# ------------------------------------------------------------------ the keyboard

def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches a selector (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector}; focus is on "
                         + page.evaluate("document.activeElement.outerHTML.slice(0, 200)"))


def focused(page, selector: str) -> bool:
    """Whether the focused element matches a selector now."""
    return page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector)


def wait_for_focus(page, selector: str) -> None:
    """Wait until the focus lands on an element matching a selector (scripts move it after a frame or two)."""
    page.wait_for_function("(s) => !!document.activeElement && document.activeElement.matches(s)", arg=selector)


def log_in_by_keyboard(page, server, name: str, next_path: str) -> None:
    """Log in through the form with Tab, typing and Enter, and land on next_path."""
    page.goto(f"{server.base}/login?next={next_path}")
    tab_to(page, "#email")
    page.keyboard.type(server.users[name])
    page.keyboard.press("Tab")
    assert focused(page, "#password")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def settle(page) -> None:
    """Let the page finish its requests and paint twice: an onerror handler or a script would have run by then."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")

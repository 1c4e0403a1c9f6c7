"""Scenario fixtures for residents and staff: a small platform 'testdorp' and people in each role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from shapely.geometry import box

from mapsvc.services import accounts
from mapsvc.services.sample import SamplePlatform, create_platform
from mapsvc.storage.models import Layer, utcnow

# A 2.8 km by 4.4 km square in Flemish Brabant; pins are placed relative to its centre.
CENTRE = (4.40, 50.90)
BOUNDARY = box(4.38, 50.88, 4.42, 50.92)
PASSWORD = "correct horse battery"
PEOPLE = {  # name -> (role, layer) ; None: a citizen
    "resident": None, "neighbour": None, "official": ("official", None), "admin": ("admin", None),
    "moderator": ("moderator", None), "manager": ("initiative_manager", "unpaving-spots"),
}


@dataclass
class Person:
    email: str
    user_id: int
    token: str


@pytest.fixture
def testdorp(db):
    """A platform with an open unpaving layer (3 votes each), a Christmas village (no budget) and assets."""
    spec = SamplePlatform("testdorp", "99999", "municipality", ("Testdorp", "Village-test", "Test village"), 13,
                          ("#123456", "#ffffff"),
                          {"unpaving-spots": 0, "christmas-village": 0, "charging-points": 0})
    with db.transaction() as session:
        platform = create_platform(session, spec, BOUNDARY)
        now = utcnow()
        for layer in platform.layers:
            if layer.kind == "suggestions":
                layer.opens_at, layer.closes_at = now - timedelta(days=1), now + timedelta(days=30)
        return platform.id


@pytest.fixture
def people(db, testdorp):
    """One account per role on testdorp, each with an API token."""
    found = {}
    with db.transaction() as session:
        for name, grant in PEOPLE.items():
            user = accounts.create_user(session, f"{name}@testdorp.example", PASSWORD,
                                        display_name=name.capitalize() if name == "neighbour" else None)
            if grant:
                accounts.grant_role(session, user, grant[0], "testdorp", grant[1])
            found[name] = Person(user.email, user.id, accounts.issue_token(session, user, "tests"))
    return found


def set_layer(db, slug: str, **values) -> None:
    """Change a testdorp layer directly (window, voting rules) to set up a scenario."""
    with db.transaction() as session:
        layer = session.query(Layer).filter_by(slug=slug).one()
        for name, value in values.items():
            setattr(layer, name, value)


def pin(lon_offset_m: float = 0.0, lat_offset_m: float = 0.0, **properties) -> dict:
    """A GeoJSON Feature a resident would send, offset in metres from testdorp's centre."""
    lon = CENTRE[0] + lon_offset_m / (111_320 * 0.6306)  # cos(50.9°)
    lat = CENTRE[1] + lat_offset_m / 111_320
    props = {"title": "Tegels eruit aan de school", **properties}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def login(client, email: str, password: str = PASSWORD):
    """Log in through the HTML form like a browser; return the response of the POST."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def csrf_of(client) -> str:
    """The CSRF token a logged-in page gives its scripts."""
    return client.get("/api/me").get_json()["csrf_token"]


def bearer(person: Person) -> dict:
    return {"Authorization": f"Bearer {person.token}"}

"""The sample content: real counts from OpenStreetMap and Statbel boundaries, demo data labelled as such."""

from pathlib import Path

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import case, func, select

from mapsvc.services.sample import load_sample
from mapsvc.storage import catalogue
from mapsvc.storage.models import Feature, Layer, Platform

DATA = Path(__file__).resolve().parents[2] / "data"

# Public OSM charging points inside each area (2025-12-26), after leaving out access=private/customers/…;
# bookcases (2021-04-09): Brussels has 49, one of them access=private; the Flemish towns have none.
REAL = {
    ("poperinge", "charging-points"): 5,
    ("beringen", "charging-points"): 33,
    ("kapelle-op-den-bos", "charging-points"): 1,
    ("brussels", "charging-points"): 613,
    ("brussels", "book-cabinets"): 48,
    ("poperinge", "book-cabinets"): 0,
    ("beringen", "book-cabinets"): 0,
    ("kapelle-op-den-bos", "book-cabinets"): 0,
}


def counts(session):
    rows = session.execute(
        select(Platform.slug, Layer.slug, func.count(Feature.id), func.sum(case((Feature.is_demo, 1), else_=0)))
        .join(Layer, Layer.platform_id == Platform.id).outerjoin(Feature, Feature.layer_id == Layer.id)
        .group_by(Platform.slug, Layer.slug)
    )
    return {(p, l): (n, int(d or 0)) for p, l, n, d in rows}


@pytest.fixture
def sample_db(sample_app):
    """The shared database with the sample loaded (read only)."""
    return sample_app.extensions["mapsvc.db"]


@pytest.fixture
def loaded(db):
    messages = []
    with db.transaction() as session:
        load_sample(session, DATA, report=messages.append)
    return messages


def test_real_counts(sample_db):
    with sample_db.sessions() as session:
        found = counts(session)
    for key, expected in REAL.items():
        assert found[key] == (expected, 0), key


def test_every_platform_has_charging_layers_and_the_seven_kinds_exist(sample_db):
    with sample_db.sessions() as session:
        found = counts(session)
    platforms = {p for p, _ in found}
    assert platforms == {"poperinge", "beringen", "kapelle-op-den-bos", "brussels"}
    for p in platforms:
        assert (p, "charging-points") in found and (p, "charging-requests") in found
    assert {l for _, l in found} == {"book-cabinets", "christmas-village", "unpaving-spots", "charging-points",
                                      "charging-requests", "solar-roofs", "initiatives"}


def test_suggestion_and_initiative_layers_hold_only_demo_data(sample_db):
    with sample_db.sessions() as session:
        found = counts(session)
    for (platform, layer), (n, demo) in found.items():
        if layer in ("charging-points", "book-cabinets"):
            continue
        assert n > 0 and demo == n, (platform, layer)
    assert found[("brussels", "initiatives")] == (148, 148)


def test_the_loader_says_what_it_left_out(loaded):
    assert "brussels/book-cabinets: 48 from OpenStreetMap, 1 left out as not public" in " ".join(loaded)


def test_every_feature_lies_inside_its_platform(sample_db):
    with sample_db.sessions() as session:
        for platform in catalogue.list_platforms(session):
            boundary = to_shape(platform.boundary)
            for layer in platform.layers:
                geoms = session.scalars(select(Feature.geom).where(Feature.layer_id == layer.id)).all()
                assert all(boundary.covers(to_shape(g)) for g in geoms), (platform.slug, layer.slug)


def test_loading_twice_adds_nothing_and_replace_reloads(db, loaded):
    with db.sessions() as session:
        before = counts(session)
    with db.transaction() as session:
        assert load_sample(session, DATA) == []
    with db.sessions() as session:
        assert counts(session) == before
    with db.transaction() as session:
        assert len(load_sample(session, DATA, replace=True)) == 4
    with db.sessions() as session:
        assert counts(session) == before


def test_the_same_seed_gives_the_same_demo_pins(db, loaded):
    def demo_pins(session):
        return session.execute(select(func.count(), func.min(Feature.source_ref)).where(Feature.is_demo)).one()

    with db.sessions() as session:
        first = demo_pins(session)
        first_geoms = sorted(to_shape(g).wkt for g in session.scalars(
            select(Feature.geom).where(Feature.is_demo).order_by(Feature.source_ref).limit(20)))
    with db.transaction() as session:
        load_sample(session, DATA, replace=True)
    with db.sessions() as session:
        assert demo_pins(session) == first
        assert sorted(to_shape(g).wkt for g in session.scalars(
            select(Feature.geom).where(Feature.is_demo).order_by(Feature.source_ref).limit(20))) == first_geoms

"""Tests for the seeded participation simulator (mapsvc.suggest.simulator)."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

from mapsvc.suggest.simulator import (FLAVOURS, Hotspot, SimulatedPin, Simulation, simulate_initiatives,
                                      simulate_participation)

TO_L72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
LON, LAT = 2.727, 50.855                       # Poperinge
DLON, DLAT = 0.0355, 0.018                     # ~2.5 km and ~2 km: a ~5 x 4 km area

# An irregular, slightly concave ~5 x 4 km outline around Poperinge (EPSG:4326).
POPERINGE = Polygon([(LON - DLON, LAT - DLAT * 0.6), (LON - DLON * 0.4, LAT - DLAT),
                     (LON + DLON * 0.7, LAT - DLAT * 0.9), (LON + DLON, LAT - DLAT * 0.1),
                     (LON + DLON * 0.8, LAT + DLAT * 0.8), (LON + DLON * 0.1, LAT + DLAT * 0.5),
                     (LON - DLON * 0.3, LAT + DLAT), (LON - DLON * 0.95, LAT + DLAT * 0.7)])
# Two parts, the first with a hole (a park nobody may pin in), ~3 km apart.
MULTI = MultiPolygon([
    Polygon([(2.60, 50.84), (2.64, 50.84), (2.64, 50.87), (2.60, 50.87)],
            [[(2.615, 50.85), (2.625, 50.85), (2.625, 50.86), (2.615, 50.86)]]),
    Polygon([(2.68, 50.83), (2.71, 50.83), (2.70, 50.86), (2.68, 50.855)]),
])
START = datetime(2026, 9, 1, tzinfo=timezone.utc)


def l72(geom):
    """Geometry transformed to Belgian Lambert 72."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_L72.transform(c[:, 0], c[:, 1])))


def fingerprint(sim: Simulation):
    """Every field of a simulation, geometries as WKB."""
    return (sim.seed, sim.flavour, sim.hotspots, sim.residents,
            [(p.key, shapely.to_wkb(p.geometry), p.theme, p.properties, p.created_at, p.author,
              p.supporters, p.hotspot) for p in sim.pins])


@pytest.fixture(scope="module")
def sims():
    """One mid-size run per flavour in the Poperinge outline."""
    return {f: simulate_participation(POPERINGE, f, n_pins=600, seed=7) for f in FLAVOURS}


def test_flavours_are_the_four_layers():
    assert set(FLAVOURS) == {"unpaving-spots", "charging-requests", "solar-roofs", "christmas-village"}


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_same_seed_same_simulation_other_seed_differs(flavour):
    a = simulate_participation(POPERINGE, flavour, n_pins=150, seed=11)
    b = simulate_participation(POPERINGE, flavour, n_pins=150, seed=11)
    c = simulate_participation(POPERINGE, flavour, n_pins=150, seed=12)
    assert fingerprint(a) == fingerprint(b)
    wkb = lambda s: [shapely.to_wkb(p.geometry) for p in s.pins]
    assert wkb(a) != wkb(c)
    assert a.hotspots != c.hotspots


@pytest.mark.parametrize("boundary", [POPERINGE, MULTI], ids=["polygon", "multipolygon"])
@pytest.mark.parametrize("flavour", ["unpaving-spots", "solar-roofs"])
def test_every_pin_inside_boundary(boundary, flavour):
    sim = simulate_participation(boundary, flavour, n_pins=2000, seed=3, n_hotspots=2)
    geoms = np.array([p.geometry for p in sim.pins])
    assert len(geoms) == 2000
    assert shapely.contains(boundary, geoms).all()
    hole = MULTI.geoms[0].interiors[0]
    if boundary is MULTI:
        assert not shapely.intersects(Polygon(hole), geoms).any()
        parts = Counter(int(shapely.contains(MULTI.geoms[1], g)) for g in geoms)
        assert parts[1] > 100 and parts[0] > 100      # both parts get pins


def test_counts_and_hotspot_split():
    sim = simulate_participation(POPERINGE, "charging-requests", n_pins=301, seed=5, hotspot_share=0.6)
    assert len(sim.pins) == 301
    per = Counter(p.hotspot for p in sim.pins)
    assert per[None] == 301 - 181                     # floor(301 * 0.6 + 0.5) = 181 hotspot pins
    assert [per[0], per[1], per[2]] == [61, 60, 60]   # split evenly, remainder to the first
    assert [h.n_pins for h in sim.hotspots] == [61, 60, 60]
    assert [h.index for h in sim.hotspots] == [0, 1, 2]
    assert all(isinstance(h, Hotspot) and h.radius_m == 40.0 for h in sim.hotspots)
    keys = [p.key for p in sim.pins]
    assert len(set(keys)) == 301 and all(re.fullmatch(r"demo-\d{4}", k) for k in keys)
    assert sorted(keys) == keys and keys[0] == "demo-0001"
    assert len(sim.residents) == 301 and sim.residents[0] == "demo-resident-0001"
    assert all(isinstance(p, SimulatedPin) for p in sim.pins)


def test_hotspots_are_shuffled_into_the_key_order():
    sim = simulate_participation(POPERINGE, "unpaving-spots", n_pins=300, seed=5)
    first_half = [p.hotspot for p in sim.pins[:150]]
    assert None in first_half and 0 in first_half and 2 in first_half


@pytest.mark.parametrize("flavour", ["christmas-village", "solar-roofs"])
def test_hotspot_pins_within_radius_of_centre(flavour):
    sim = simulate_participation(POPERINGE, flavour, n_pins=900, seed=9, hotspot_radius_m=60.0)
    centres = {h.index: l72(Point(h.lon, h.lat)) for h in sim.hotspots}
    dists = [l72(p.geometry).centroid.distance(centres[p.hotspot]) for p in sim.pins if p.hotspot is not None]
    assert len(dists) == 540
    assert max(dists) <= 60.0 + 0.01
    assert np.median(dists) < 45.0               # concentrated (sigma = 30 m), not spread on the edge
    background = [min(l72(p.geometry).centroid.distance(c) for c in centres.values())
                  for p in sim.pins if p.hotspot is None]
    assert np.median(background) > 300.0


def square(size_m: float) -> Polygon:
    """An axis-aligned square of about size_m metres at Poperinge."""
    dlon, dlat = size_m / (111_320 * math.cos(math.radians(LAT))), size_m / 111_200
    return Polygon([(LON, LAT), (LON + dlon, LAT), (LON + dlon, LAT + dlat), (LON, LAT + dlat)])


@pytest.mark.parametrize("boundary, n_hotspots, radius, spacing", [
    (POPERINGE, 8, 40.0, 300.0), (square(1200), 5, 40.0, 300.0), (square(1000), 3, 100.0, 400.0)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hotspot_centres_apart_and_away_from_the_edge(boundary, n_hotspots, radius, spacing, seed):
    sim = simulate_participation(boundary, "unpaving-spots", n_pins=100, seed=seed, n_hotspots=n_hotspots,
                                 hotspot_radius_m=radius)
    centres = [l72(Point(h.lon, h.lat)) for h in sim.hotspots]
    assert len(centres) == n_hotspots
    for i, a in enumerate(centres):
        assert l72(boundary).exterior.distance(a) >= 2 * radius - 0.01
        for b in centres[i + 1:]:
            assert a.distance(b) >= spacing


def test_impossible_hotspot_packing_is_a_clear_error():
    with pytest.raises(ValueError, match="could not place 30 hotspots 300 m apart"):
        simulate_participation(square(1200), "unpaving-spots", n_pins=10, seed=1, n_hotspots=30)


def test_hotspots_findable_and_background_spread(sims):
    """DBSCAN-like check at 75 m / 3 pins: hotspot pins are core points, background pins mostly not."""
    pins = sims["unpaving-spots"].pins
    xy = np.array([l72(p.geometry).coords[0] for p in pins])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    neighbours = (d <= 75.0).sum(axis=1)          # includes the pin itself
    hot = np.array([p.hotspot is not None for p in pins])
    assert (neighbours[hot] >= 3).all()
    assert (neighbours[~hot] >= 3).mean() < 0.05


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_supporters_distinct_never_the_author(sims, flavour):
    sim = sims[flavour]
    residents = set(sim.residents)
    assert sim.n_votes == sum(len(p.supporters) for p in sim.pins) > 0
    for p in sim.pins:
        assert p.author in residents and p.author.startswith("demo-resident-")
        assert p.author not in p.supporters
        assert len(set(p.supporters)) == len(p.supporters)
        assert set(p.supporters) <= residents


@pytest.mark.parametrize("votes", [1, 3, 5])
def test_votes_per_resident_capped(votes):
    sim = simulate_participation(POPERINGE, "unpaving-spots", n_pins=500, seed=4, votes_per_resident=votes)
    cast = Counter(r for p in sim.pins for r in p.supporters)
    assert max(cast.values()) <= votes
    assert max(cast.values()) == votes


def test_zero_votes_per_resident():
    sim = simulate_participation(POPERINGE, "unpaving-spots", n_pins=100, seed=4, votes_per_resident=0)
    assert sim.n_votes == 0


@pytest.mark.parametrize("share", [0.3, 0.6, 0.9])
def test_hotspot_pins_get_more_support(share):
    sim = simulate_participation(POPERINGE, "unpaving-spots", n_pins=800, seed=21, hotspot_share=share)
    hot = [len(p.supporters) for p in sim.pins if p.hotspot is not None]
    bg = [len(p.supporters) for p in sim.pins if p.hotspot is None]
    assert np.mean(hot) > np.mean(bg)


def test_solar_roofs_valid_ccw_roof_sized(sims):
    for p in sims["solar-roofs"].pins:
        g = p.geometry
        assert g.geom_type == "Polygon" and g.is_valid
        assert len(g.exterior.coords) == 5
        assert g.exterior.is_ccw
        assert 64.0 - 0.01 <= l72(g).area <= 375.0 + 0.01


def test_point_flavours_give_points(sims):
    for f in ("unpaving-spots", "charging-requests", "christmas-village"):
        assert {p.geometry.geom_type for p in sims[f].pins} == {"Point"}


def test_texts_and_flavour_fields(sims):
    for f, sim in sims.items():
        titles = [p.properties["title"] for p in sim.pins]
        assert len(set(titles)) == len(titles)
        assert len({re.sub(r" #\d+$", "", t) for t in titles}) >= 8       # varied, not one template
        for p in sim.pins:
            props = p.properties
            assert props["title"].startswith("Demo – ") and len(props["title"]) <= 120
            d = props["description"]
            assert len(d) <= 500 and d.endswith("(gegenereerde demodata)") and "Demo" in d
    for p in sims["unpaving-spots"].pins:
        assert p.theme in ("ontharden", "vergroenen")
        assert type(p.properties["surface_m2"]) is int and 5 <= p.properties["surface_m2"] <= 400
    for p in sims["charging-requests"].pins:
        assert p.theme is None and p.properties["has_private_parking"] is False
        assert p.properties["vehicles"] in (1, 2)
    for p in sims["solar-roofs"].pins:
        assert p.theme == "energie" and p.properties["roof_type"] in ("flat", "pitched")
        assert p.properties["building_use"] in ("public", "school", "sports", "residential", "commercial")
    for p in sims["christmas-village"].pins:
        assert p.theme == "kerstdorp"
        assert p.properties["decoration"] in ("lights", "nativity", "figures", "mixed")
    assert {p.theme for p in sims["unpaving-spots"].pins} == {"ontharden", "vergroenen"}
    assert {p.properties["vehicles"] for p in sims["charging-requests"].pins} == {1, 2}


def test_created_at_aware_utc_and_in_range(sims):
    for sim in sims.values():
        times = [p.created_at for p in sim.pins]
        assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
        assert all(START <= t < START + timedelta(days=60) for t in times)
        assert max(times) - min(times) > timedelta(days=50)
    cet = timezone(timedelta(hours=2))
    start = datetime(2027, 3, 1, 12, 0, tzinfo=cet)
    sim = simulate_participation(POPERINGE, "unpaving-spots", n_pins=200, seed=1, start=start, days=3)
    assert all(p.created_at.tzinfo == timezone.utc for p in sim.pins)
    assert all(start <= p.created_at < start + timedelta(days=3) for p in sim.pins)


def test_no_hotspots_and_zero_pins():
    sim = simulate_participation(POPERINGE, "unpaving-spots", n_pins=200, seed=1, n_hotspots=0,
                                 hotspot_share=0)
    assert sim.hotspots == () and all(p.hotspot is None for p in sim.pins) and sim.n_votes > 0
    empty = simulate_participation(POPERINGE, "solar-roofs", n_pins=0, seed=1)
    assert empty.pins == () and empty.n_votes == 0 and len(empty.residents) == 50
    assert len(empty.hotspots) == 3 and all(h.n_pins == 0 for h in empty.hotspots)
    one = simulate_participation(POPERINGE, "charging-requests", n_pins=1, seed=1, hotspot_share=1.0)
    assert len(one.pins) == 1 and one.pins[0].hotspot == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"flavour": "bike-racks"}, "valid flavours: unpaving-spots, charging-requests, solar-roofs"),
    ({"n_pins": -1}, "n_pins"),
    ({"n_pins": 1_000_001}, "n_pins"),
    ({"n_pins": 10.0}, "n_pins must be an integer"),
    ({"n_pins": True}, "n_pins must be an integer"),
    ({"seed": -1}, "seed"),
    ({"hotspot_share": -0.1}, "hotspot_share"),
    ({"hotspot_share": 1.5}, "hotspot_share"),
    ({"hotspot_share": float("nan")}, "hotspot_share"),
    ({"hotspot_share": True}, "hotspot_share"),
    ({"hotspot_radius_m": 0}, "hotspot_radius_m"),
    ({"n_hotspots": -1}, "n_hotspots"),
    ({"n_hotspots": 0}, "hotspot_share must be 0"),
    ({"n_residents": 0}, "n_residents"),
    ({"votes_per_resident": -1}, "votes_per_resident"),
    ({"days": 0}, "days"),
    ({"start": datetime(2026, 9, 1)}, "timezone-aware"),
    ({"boundary": Point(2.7, 50.8)}, "Polygon or MultiPolygon"),
    ({"boundary": Polygon()}, "non-empty"),
    ({"boundary": Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])}, "not a valid geometry"),
    ({"boundary": Polygon([(150000, 200000), (151000, 200000), (151000, 201000)])}, "EPSG:4326"),
    ({"boundary": Polygon([(2.7, 50.8), (2.7005, 50.8), (2.7005, 50.8005), (2.7, 50.8005)])}, "too small"),
])
def test_argument_validation(kwargs, message):
    args = {"boundary": POPERINGE, "flavour": "unpaving-spots", "n_pins": 10, "seed": 1, **kwargs}
    boundary, flavour = args.pop("boundary"), args.pop("flavour")
    with pytest.raises(ValueError, match=re.escape(message)):
        simulate_participation(boundary, flavour, **args)


def test_hundred_thousand_pins():
    sim = simulate_participation(POPERINGE, "unpaving-spots", n_pins=100_000, seed=1)
    assert len(sim.pins) == 100_000
    assert sum(h.n_pins for h in sim.hotspots) == 60_000


def test_initiatives():
    rows = simulate_initiatives(MULTI, n=300, seed=3)
    assert rows == simulate_initiatives(MULTI, n=300, seed=3)
    assert rows != simulate_initiatives(MULTI, n=300, seed=4)
    assert len(rows) == 300 and len({r.key for r in rows}) == 300
    assert shapely.contains_xy(MULTI, [r.lon for r in rows], [r.lat for r in rows]).all()
    for i, r in enumerate(rows, start=1):
        assert r.name.startswith("Demo – ") and len(r.name) <= 120
        assert r.theme in ("mobiliteit", "groen", "cultuur", "wonen", "klimaat", "sociaal")
        assert r.organiser.startswith("Demo-") and re.search(r" \d+$", r.organiser)
        assert r.address is None
        assert r.link == f"https://example.org/demo/initiative-{i}"
        assert r.description.endswith("(gegenereerde demodata)") and len(r.description) <= 500
    assert len({r.theme for r in rows}) == 6
    assert simulate_initiatives(POPERINGE, n=0, seed=1) == ()
    with pytest.raises(ValueError, match="n must be"):
        simulate_initiatives(POPERINGE, n=-1, seed=1)
    with pytest.raises(ValueError, match="Polygon"):
        simulate_initiatives(Point(4.35, 50.85), n=3, seed=1)


def test_boundary_distance_is_metric_not_degrees():
    """A 1 km square still holds two 40 m hotspots: distances are metres in Lambert 72."""
    sim = simulate_participation(square(1000), "christmas-village", n_pins=200, seed=1, n_hotspots=2)
    assert shapely.contains(square(1000), np.array([p.geometry for p in sim.pins])).all()

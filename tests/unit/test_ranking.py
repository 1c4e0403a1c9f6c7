"""Hotspot ranking: planted hotspots are found, distinct people decide, and brigading does not pay."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon

from mapsvc.suggest.ranking import (NOBODY, UNKNOWN, Pins, SupportRule, Votes, rank_hotspots, rank_pins,
                                    roof_areas_m2)
from mapsvc.suggest.simulator import simulate_participation
from tests.support.participation import columns

TO_WGS = Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)
TO_L72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
ORIGIN = np.array([40_000.0, 180_000.0])            # Poperinge, in Lambert 72
T0 = int(datetime(2026, 9, 1, tzinfo=timezone.utc).timestamp())
HOUR, DAY = 3600, 86400
OLD = T0 - 365 * DAY                                 # an established account
BOX = Polygon([(2.69, 50.835), (2.76, 50.835), (2.76, 50.875), (2.69, 50.875)])


def lonlat(xy):
    """lon/lat of points given in metres from ORIGIN."""
    xy = np.asarray(xy, float).reshape(-1, 2) + ORIGIN
    return TO_WGS.transform(xy[:, 0], xy[:, 1])


def make_pins(xy, authors, *, created=None, since=None, first_id=1, **extra) -> Pins:
    lon, lat = lonlat(xy)
    n = len(lon)
    return Pins(id=np.arange(first_id, first_id + n), lon=lon, lat=lat, author=np.asarray(authors),
                created_at=np.full(n, T0) if created is None else created,
                author_since=np.full(n, OLD) if since is None else since, **extra)


def join(*parts: Pins) -> Pins:
    return Pins(**{name: np.concatenate([getattr(p, name) for p in parts])
                   for name in ("id", "lon", "lat", "author", "created_at", "author_since", "status", "theme")})


def vote_table(rows) -> Votes:
    """rows of (pin id, voter, when, account created)."""
    rows = np.array(rows, np.int64).reshape(-1, 4)
    return Votes(pin_id=rows[:, 0], voter=rows[:, 1], created_at=rows[:, 2], voter_since=rows[:, 3])


def spot(centre, n, spread=10.0, seed=0):
    """n points within about spread metres of centre."""
    return np.asarray(centre, float) + np.random.default_rng(seed).uniform(-spread, spread, (n, 2))


# ---- planted hotspots --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted():
    sim = simulate_participation(BOX, "unpaving-spots", n_pins=600, seed=11, n_hotspots=3)
    pins, votes = columns(sim)
    return sim, pins, votes, rank_hotspots(pins, votes)


def test_the_three_planted_hotspots_rank_first(planted):
    sim, pins, _, ranking = planted
    hotspot_of = dict(zip(pins.id.tolist(), [p.hotspot for p in sim.pins]))
    found = set()
    for place in ranking[:3]:
        members = [hotspot_of[i] for i in place.pin_ids]
        main = max(set(members), key=members.count)
        assert main is not None and place.is_cluster
        assert members.count(main) >= 0.9 * len(members)                     # pure
        assert members.count(main) >= 0.9 * sim.hotspots[main].n_pins        # complete
        x, y = TO_L72.transform(place.lon, place.lat)
        hx, hy = TO_L72.transform(sim.hotspots[main].lon, sim.hotspots[main].lat)
        assert np.hypot(x - hx, y - hy) < 15
        found.add(main)
    assert found == {0, 1, 2}
    assert ranking[3].score < ranking[2].score


def test_every_pin_is_in_exactly_one_place_and_ranks_run_from_one(planted):
    _, pins, _, ranking = planted
    ids = [i for place in ranking for i in place.pin_ids]
    assert sorted(ids) == sorted(pins.id.tolist())
    assert [p.rank for p in ranking] == list(range(1, len(ranking) + 1))
    assert any(not p.is_cluster and p.pins == 1 for p in ranking)             # singletons rank too


def test_raw_counts_add_up(planted):
    sim, _, votes, ranking = planted
    assert sum(p.votes for p in ranking) == len(votes) == sim.n_votes
    for place in ranking[:10]:
        assert place.people <= place.voters + place.authors
        assert place.people >= max(place.voters, place.authors)
        assert place.score == place.people                 # all simulated accounts are established


def test_hulls_contain_their_pins(planted):
    _, pins, _, ranking = planted
    by_id = dict(zip(pins.id.tolist(), zip(pins.lon.tolist(), pins.lat.tolist())))
    for place in ranking[:20]:
        assert place.hull.geom_type == "Polygon" and place.hull.is_valid
        assert all(place.hull.contains(shapely.Point(by_id[i])) for i in place.pin_ids)


def test_same_input_same_output_in_any_order(planted):
    _, pins, votes, ranking = planted
    assert rank_hotspots(pins, votes) == ranking
    perm = np.random.default_rng(3).permutation(len(pins))
    vperm = np.random.default_rng(4).permutation(len(votes))
    shuffled = pins.take(perm)
    shuffled_votes = Votes(votes.pin_id[vperm], votes.voter[vperm], votes.created_at[vperm], votes.voter_since[vperm])
    assert rank_hotspots(shuffled, shuffled_votes) == ranking


def test_limit_keeps_the_best(planted):
    _, pins, votes, ranking = planted
    assert rank_hotspots(pins, votes, limit=5) == ranking[:5]


# ---- adversarial cases -----------------------------------------------------------------------------

def test_one_account_voting_for_thirty_pins_does_not_beat_ten_residents():
    brigade = make_pins(spot((0, 0), 30), authors=[1] * 30)                      # one author ...
    residents = make_pins(spot((500, 0), 3), authors=[10, 11, 12], first_id=100)
    votes = vote_table([(pid, 2, T0 + HOUR, OLD) for pid in range(1, 31)]       # ... and one voter, 30 times
                       + [(100 + k % 3, 13 + k, T0 + HOUR, OLD) for k in range(7)])
    ranking = rank_hotspots(join(brigade, residents), votes)
    top, second = ranking[0], ranking[1]
    assert top.pin_ids == (100, 101, 102) and top.people == 10 and top.score == 10
    assert second.pins == 30 and second.votes == 30 > top.votes               # raw votes would say otherwise
    assert (second.people, second.voters, second.authors, second.score) == (2, 1, 1, 2)


@pytest.mark.parametrize("n_fresh", [50, 400])
def test_a_burst_of_fresh_accounts_does_not_beat_twenty_residents(n_fresh):
    target = make_pins(spot((0, 0), 3), authors=[1, 2, 3])
    residents = make_pins(spot((800, 0), 3), authors=[4, 5, 6], first_id=10)
    start = T0 + 5 * DAY
    times = start + np.linspace(0, 600, n_fresh).astype(int)                    # 10 minutes
    fresh = [(1 + k % 3, 1000 + k, t, t - 120) for k, t in enumerate(times)]    # accounts 2 minutes old
    steady = [(10 + k % 3, 100 + k, T0 + k * DAY // 4, OLD) for k in range(17)]
    ranking = rank_hotspots(join(target, residents), vote_table(fresh + steady))
    assert ranking[0].pin_ids == (10, 11, 12) and ranking[0].score == 20
    swarm = ranking[1]
    assert swarm.voters == n_fresh and swarm.people == n_fresh + 3
    assert swarm.new_account_people == swarm.burst_people == n_fresh
    assert swarm.score == 3 + 1                                                 # the burst counts as one


def test_fresh_accounts_at_a_normal_pace_count_a_quarter_each():
    pins = make_pins(spot((0, 0), 3), authors=[NOBODY] * 3)
    when = T0 + np.arange(8) * HOUR                                             # an hour apart: no burst
    votes = vote_table([(1, 50 + k, t, t - 60) for k, t in enumerate(when)])
    place = rank_hotspots(pins, votes)[0]
    # 8 new accounts at 0.25, plus the unknown author(s) of the pins as one person.
    assert (place.people, place.new_account_people, place.burst_people, place.score) == (9, 8, 0, 3.0)


def test_a_new_account_that_comes_back_later_counts_in_full():
    pins = make_pins(spot((0, 0), 3), authors=[NOBODY] * 3)
    votes = vote_table([(1, 7, T0, T0 - 60), (2, 7, T0 + 3 * DAY, T0 - 60)])
    assert rank_hotspots(pins, votes)[0].score == 1.0 + 1.0          # account 7, and the unknown author


def test_fresh_authors_are_new_accounts_too():
    pins = make_pins(spot((0, 0), 3), authors=[1, 2, 3], since=np.full(3, T0 - 60))
    place = rank_hotspots(pins)[0]
    assert (place.people, place.new_account_people, place.score) == (3, 3, 0.75)


def test_unknown_account_age_counts_in_full():
    pins = make_pins(spot((0, 0), 3), authors=[1, 2, 3], since=np.full(3, UNKNOWN))
    assert rank_hotspots(pins)[0].score == 3


def test_unlinked_votes_count_the_most_on_one_pin():
    pins = make_pins(spot((0, 0), 3), authors=[NOBODY] * 3)
    votes = vote_table([(1, NOBODY, T0, UNKNOWN)] * 5 + [(2, NOBODY, T0, UNKNOWN)] * 3)
    place = rank_hotspots(pins, votes)[0]
    assert (place.votes, place.unlinked_votes, place.people, place.score) == (8, 8, 5, 5)


def test_pins_without_author_count_as_one_person_per_place():
    pins = make_pins(spot((0, 0), 4), authors=[NOBODY] * 4)
    place, = rank_hotspots(pins)
    assert (place.pins, place.authors, place.people, place.score) == (4, 0, 1, 1.0)
    mixed, = rank_hotspots(make_pins(spot((0, 0), 3), authors=[NOBODY, 5, 6]))
    assert (mixed.authors, mixed.people, mixed.score) == (2, 3, 3.0)


def test_the_rule_numbers_are_parameters():
    pins = make_pins(spot((0, 0), 3), authors=[1, 2, 3], since=np.full(3, T0 - 60))
    rule = SupportRule(new_account_hours=0.01, new_account_weight=0.5)
    assert rank_hotspots(pins, rule=rule)[0].score == 3
    assert rank_hotspots(pins, rule=SupportRule(new_account_weight=0.5))[0].score == 1.5


# ---- ties, filters, variants, edge cases -----------------------------------------------------------

def test_ties_go_to_more_people_then_more_pins_then_the_lowest_pin_id():
    a = make_pins(spot((0, 0), 1), authors=[1], first_id=7)
    b = make_pins(spot((500, 0), 1), authors=[2], first_id=3)
    c = make_pins(spot((1000, 0), 4), authors=[3, 3, 3, 3], since=np.full(4, T0 - 60), first_id=20)
    d = make_pins(spot((2000, 0), 3), authors=[9, 9, 9], first_id=30)
    votes = vote_table([(20, 4, T0, T0 - 60), (21, 5, T0, T0 - 60), (22, 6, T0, T0 - 60)])
    ranking = rank_hotspots(join(a, b, c, d), votes)
    # All score 1.0: 4 new accounts first (more people), then 3 pins of one person, then by pin id.
    assert [p.pin_ids[0] for p in ranking] == [20, 30, 3, 7]


def test_filters_drop_pins_and_their_votes():
    n = 9
    pins = make_pins(spot((0, 0), n), authors=list(range(n)),
                     created=T0 + np.arange(n) * DAY,
                     status=np.array(["submitted", "selected", "rejected"] * 3, dtype=object),
                     theme=np.array(["ontharden"] * 6 + ["vergroenen"] * 3, dtype=object))
    votes = vote_table([(pid, 100 + pid, T0 + 20 * DAY, OLD) for pid in range(1, n + 1)])
    kept = lambda **kw: sorted(i for p in rank_hotspots(pins, votes, min_pins=1, **kw) for i in p.pin_ids)
    assert kept(statuses=["submitted", "selected"]) == [1, 2, 4, 5, 7, 8]
    assert kept(themes=["vergroenen"]) == [7, 8, 9]
    start = datetime.fromtimestamp(T0 + 2 * DAY, timezone.utc)
    assert kept(created_from=start, created_to=start + timedelta(days=3)) == [3, 4, 5]
    only = rank_hotspots(pins, votes, min_pins=1, themes=["vergroenen"])[0]
    assert (only.votes, only.people) == (3, 6)


def test_radius_and_size_are_per_request():
    pins = make_pins([(0, 0), (60, 0), (120, 0), (600, 0), (690, 0)], authors=[1, 2, 3, 4, 5])
    assert sorted(p.pins for p in rank_hotspots(pins)) == [1, 1, 3]
    assert sorted(p.pins for p in rank_hotspots(pins, eps_m=100, min_pins=2)) == [2, 3]
    assert sorted(p.pins for p in rank_hotspots(pins, eps_m=50)) == [1] * 5


def test_no_pins_no_places():
    assert rank_hotspots(make_pins(np.empty((0, 2)), authors=[])) == []


def test_one_pin_is_one_place_with_a_round_hull():
    place, = rank_hotspots(make_pins([(0, 0)], authors=[1]))
    assert (place.pins, place.people, place.score, place.is_cluster) == (1, 1, 1.0, False)
    hull = shapely.transform(place.hull, lambda c: np.column_stack(TO_L72.transform(c[:, 0], c[:, 1])))
    assert hull.area == pytest.approx(np.pi * 20 ** 2, rel=0.05)              # the 20 m buffer


def test_all_pins_in_one_spot_and_duplicate_coordinates():
    pins = make_pins(np.zeros((25, 2)), authors=list(range(25)))
    place, = rank_hotspots(pins)
    assert place.pins == 25 and place.is_cluster and place.hull.area > 0
    two, = rank_hotspots(make_pins(np.zeros((2, 2)), authors=[1, 1]), min_pins=2)
    assert (two.pins, two.people) == (2, 1)


def test_pins_on_the_platform_boundary_rank_like_others():
    lon, lat = BOX.exterior.coords[0]
    edge = Pins(id=[1, 2, 3], lon=[lon] * 3, lat=[lat, lat + 1e-5, lat + 2e-5], author=[1, 2, 3])
    place, = rank_hotspots(edge)
    assert place.pins == 3 and place.hull.covers(shapely.Point(lon, lat))


def test_solar_roofs_rank_each_roof_with_its_area():
    roof = shapely.box(*ORIGIN, *(ORIGIN + [20, 10]))
    far = shapely.box(*(ORIGIN + 300), *(ORIGIN + 300 + [8, 8]))
    outlines = [shapely.transform(g, lambda c: np.column_stack(TO_WGS.transform(c[:, 0], c[:, 1])))
                for g in (roof, far)]
    point = shapely.Point(lonlat([(30, 0)])[0][0], lonlat([(30, 0)])[1][0])
    geoms = np.array(outlines + [point], dtype=object)
    areas = roof_areas_m2(geoms)
    assert areas[0] == pytest.approx(200, rel=1e-3) and areas[1] == pytest.approx(64, rel=1e-3)
    assert np.isnan(areas[2])
    c = shapely.centroid(geoms)
    pins = Pins(id=[1, 2, 3], lon=shapely.get_x(c), lat=shapely.get_y(c), author=[1, 2, 3], area_m2=areas,
                outline=geoms)
    votes = vote_table([(2, 9, T0, OLD), (2, 8, T0, OLD)])
    ranking = rank_pins(pins, votes)
    assert [p.pin_ids for p in ranking] == [(2,), (1,), (3,)]
    assert ranking[0].area_m2 == pytest.approx(64, rel=1e-3) and ranking[0].hull.equals(outlines[1])
    assert ranking[2].area_m2 is None and ranking[2].hull.geom_type == "Polygon"


@pytest.mark.parametrize("bad,match", [
    (dict(id=[1, 1], lon=[4.3, 4.3], lat=[50.8, 50.8]), "unique"),
    (dict(id=[1, 2], lon=[4.3], lat=[50.8, 50.8]), "one entry per row"),
    (dict(id=[1], lon=[float("nan")], lat=[50.8]), "finite"),
    (dict(id=[1], lon=[4.3], lat=[50.8], created_at=np.array([datetime(2026, 1, 1)], dtype=object)),
     "timezone-aware"),
])
def test_bad_pins_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        Pins(**bad)


def test_aware_datetimes_and_datetime64_are_times():
    when = datetime(2026, 9, 1, 12, tzinfo=timezone.utc)
    a = Pins(id=[1], lon=[4.3], lat=[50.8], created_at=np.array([when], dtype=object))
    b = Pins(id=[1], lon=[4.3], lat=[50.8], created_at=np.array(["2026-09-01T12:00"], dtype="datetime64[s]"))
    assert a.created_at.tolist() == b.created_at.tolist() == [int(when.timestamp())]

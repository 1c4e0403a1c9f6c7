"""Reading pins and votes for rankings gives the same columns on SpatiaLite and PostGIS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import shapely
from geoalchemy2.shape import from_shape

from mapsvc.services.sample import SamplePlatform, create_platform
from mapsvc.storage.features import FeatureFilter
from mapsvc.storage.models import Feature, User, Vote
from mapsvc.storage.ranking import NO_ONE, pin_columns, support_columns, vote_columns

T0 = datetime(2026, 9, 1, 12, 0, 0, tzinfo=timezone.utc)
ROOF = shapely.box(4.400, 50.900, 4.4003, 50.9002)


@pytest.fixture
def stored(db):
    """Four pins (one roof, one without author, one rejected) and five votes (one unlinked)."""
    with db.transaction() as session:
        platform = create_platform(session, SamplePlatform(
            "opslag", "99997", "municipality", ("Opslag",) * 3, 12, ("#111111", "#ffffff"),
            {"solar-roofs": 0, "unpaving-spots": 0}), shapely.box(4.3, 50.8, 4.5, 51.0))
        layer = next(layer for layer in platform.layers if layer.slug == "solar-roofs")
        users = [User(email=f"u{k}@opslag.example", locale="nl", is_active=True,
                      created_at=T0 - timedelta(days=k)) for k in range(4)]
        session.add_all(users)
        session.flush()
        specs = [(shapely.Point(4.41, 50.91), users[0].id, "submitted", T0),
                 (ROOF, users[1].id, "submitted", T0 + timedelta(hours=1)),
                 (shapely.Point(4.42, 50.92), None, "submitted", T0 + timedelta(days=1)),
                 (shapely.Point(4.43, 50.93), users[2].id, "rejected", T0 + timedelta(days=2))]
        pins = [Feature(layer_id=layer.id, geom=from_shape(g, srid=4326), properties={}, status=s, source="t",
                        is_demo=False, author_id=a, created_at=c, updated_at=c) for g, a, s, c in specs]
        session.add_all(pins)
        session.flush()
        votes = [(pins[0], users[3]), (pins[1], users[3]), (pins[1], users[0]), (pins[3], users[1]), (pins[0], None)]
        session.add_all([Vote(feature_id=p.id, layer_id=layer.id, user_id=u.id if u else None,
                              created_at=T0 + timedelta(days=3, seconds=k)) for k, (p, u) in enumerate(votes)])
        return layer.id, [p.id for p in pins], [u.id for u in users]


def test_pins_come_in_id_order_with_centres_authors_and_account_ages(db, stored):
    layer_id, pin_ids, user_ids = stored
    with db.sessions() as session:
        pins = pin_columns(session, layer_id, outlines=True)
    assert pins.id.tolist() == pin_ids
    assert pins.author.tolist() == [user_ids[0], user_ids[1], NO_ONE, user_ids[2]]
    assert pins.lon[0] == pytest.approx(4.41) and pins.lat[3] == pytest.approx(50.93)
    assert pins.lon[1] == pytest.approx(ROOF.centroid.x, abs=1e-9)                 # a roof's centroid
    start = T0.timestamp()
    assert pins.created_at.tolist() == [start, start + 3600, start + 86400, start + 2 * 86400]
    assert pins.author_since[[0, 1, 3]].tolist() == [start, start - 86400, start - 2 * 86400]
    assert np.isnan(pins.author_since[2])
    assert pins.outline[1].equals(ROOF) and pins.outline[0].geom_type == "Point"


def test_votes_carry_voter_and_account_age_and_unlinked_ones_stay(db, stored):
    layer_id, pin_ids, user_ids = stored
    with db.sessions() as session:
        votes = vote_columns(session, layer_id)
    rows = sorted(zip(votes.pin_id.tolist(), votes.voter.tolist(), votes.created_at.tolist()))
    expected_voters = [(pin_ids[0], NO_ONE), (pin_ids[0], user_ids[3]), (pin_ids[1], user_ids[0]),
                       (pin_ids[1], user_ids[3]), (pin_ids[3], user_ids[1])]
    assert [(p, v) for p, v, _ in rows] == expected_voters
    assert all(T0.timestamp() + 3 * 86400 <= t < T0.timestamp() + 3 * 86400 + 5 for _, _, t in rows)
    since = dict(zip(votes.voter.tolist(), votes.voter_since.tolist()))
    assert since[user_ids[3]] == T0.timestamp() - 3 * 86400 and np.isnan(since[NO_ONE])


def test_filters_apply_to_pins_and_their_votes_alike(db, stored):
    layer_id, pin_ids, user_ids = stored
    where = FeatureFilter(statuses=("submitted",), created_to=T0 + timedelta(days=1))
    with db.sessions() as session:
        pins, votes = support_columns(session, layer_id, where)
    assert pins.id.tolist() == pin_ids[:2]
    assert sorted(votes.pin_id.tolist()) == [pin_ids[0], pin_ids[0], pin_ids[1], pin_ids[1]]
    assert pins.author_since[0] == T0.timestamp()
    assert sorted(votes.voter_since[votes.voter != NO_ONE].tolist()) == sorted(
        [T0.timestamp() - 3 * 86400] * 2 + [T0.timestamp()])


def test_an_empty_layer_gives_empty_columns(db, stored):
    layer_id, _, _ = stored
    with db.sessions() as session:
        pins, votes = support_columns(session, layer_id + 1)        # the platform's other layer, empty
    assert len(pins.id) == len(votes.pin_id) == 0 and pins.lon.dtype == np.float64

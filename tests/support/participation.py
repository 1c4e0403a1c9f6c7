"""Turn simulator output into the plain columns the ranking and rollout code take."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import shapely

from mapsvc.suggest.ranking import Pins, Votes
from mapsvc.suggest.simulator import Simulation

ACCOUNT_AGE = timedelta(days=90)     # simulated residents are established accounts
VOTE_DELAY = timedelta(hours=2)      # a simulated vote comes this long after its pin


def columns(sim: Simulation, first_id: int = 1) -> tuple[Pins, Votes]:
    """Return (Pins, Votes) of a simulation: pin ids from first_id, resident n has account id n."""
    n = len(sim.pins)
    resident = {name: i for i, name in enumerate(sim.residents)}
    created = np.array([p.created_at.timestamp() for p in sim.pins], np.int64)
    since = created - int(ACCOUNT_AGE.total_seconds())
    centres = shapely.centroid(np.array([p.geometry for p in sim.pins], dtype=object))
    pins = Pins(id=np.arange(first_id, first_id + n), lon=shapely.get_x(centres), lat=shapely.get_y(centres),
                author=np.array([resident[p.author] for p in sim.pins], np.int64), created_at=created,
                author_since=since, theme=np.array([p.theme for p in sim.pins], dtype=object),
                status=np.full(n, "submitted", dtype=object))
    per_pin = [len(p.supporters) for p in sim.pins]
    pin_index = np.repeat(np.arange(n), per_pin)
    voters = np.array([resident[s] for p in sim.pins for s in p.supporters], np.int64)
    when = created[pin_index] + int(VOTE_DELAY.total_seconds())
    votes = Votes(pin_id=pins.id[pin_index], voter=voters, created_at=when,
                  voter_since=when - int(ACCOUNT_AGE.total_seconds()))
    return pins, votes

"""Rank the places where residents' suggestions concentrate, by how many distinct people support them.

Pins are projected to Belgian Lambert 72 (EPSG:31370) and clustered with DBSCAN (``clustering.dbscan``;
``eps_m`` metres and ``min_pins`` pins, 75 m / 3 by default: street-level pins). Every cluster is a
place, and every pin outside a cluster is a place of its own: singletons rank too.

The support rule, per place (it keeps one account, or a swarm of new accounts, from outranking a place
that many different residents back; ``SupportRule`` holds the numbers):

1. **People, not pins or votes.** A place's supporters are the distinct accounts that authored one of
   its pins or voted for one. Each counts once per place, however many of its pins they dropped or
   voted for.
2. **New accounts count a quarter.** A contribution (a pin or a vote) is a new-account contribution when
   the account was less than 24 hours old when it was made. A supporter whose every contribution to
   the place is a new-account one counts 0.25; every other supporter counts 1 (so does an account whose
   creation time is unknown).
3. **A burst counts as one person.** Order a place's new-account supporters by their first contribution
   there; at least 5 of them in a row with at most 10 minutes between one and the next form a burst,
   which counts 0.25 each but at most 1 in total.
4. **People who cannot be told apart count as few as they can be.** Votes whose link to the voter was
   dropped (retention, a deleted account) count as the largest number of them on any one of the place's
   pins (certainly that many people); pins without a known author (imported, or the account is gone)
   as one person, however many there are. A place counts the larger of the two, at weight 1.

``score`` is the sum of those weights. Beside it each place carries the raw counts an official can
check it against: pins, votes, voters, authors, people (distinct supporters), new-account people, people
in bursts and unlinked votes. Places are ordered by score, then people, then pins (all descending), then
their lowest pin id. Pins are sorted by id first, so the same pins and votes in any order give the same
ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import numpy as np
import shapely

from mapsvc.spatial.crs import LAMBERT72, from_wgs84, to_wgs84
from mapsvc.suggest.clustering import dbscan
from mapsvc.suggest.hulls import buffered_hulls

UNKNOWN = np.iinfo(np.int64).min     # an unknown time, in epoch seconds
NOBODY = -1                          # no author, or a vote whose voter link was dropped


@dataclass(frozen=True)
class SupportRule:
    """The numbers of the support rule in this module's docstring."""
    new_account_hours: float = 24.0
    new_account_weight: float = 0.25
    burst_gap_minutes: float = 10.0
    burst_min_people: int = 5
    burst_cap: float = 1.0

    def summary(self) -> str:
        """Say the rule in one paragraph, for the API and the dashboard."""
        return (f"score = the distinct people (authors and voters) behind a place, each counted once; an account "
                f"younger than {self.new_account_hours:g} h when it contributed counts {self.new_account_weight:g}; "
                f"{self.burst_min_people} or more such accounts arriving at most {self.burst_gap_minutes:g} minutes "
                f"apart form a burst that counts at most {self.burst_cap:g}; unlinked votes and pins without a known "
                "author count as the fewest people they can be.")


def epoch_seconds(values, n: int) -> np.ndarray:
    """Return times as int64 epoch seconds (UNKNOWN for missing) from ints, datetime64 or aware datetimes."""
    if values is None:
        return np.full(n, UNKNOWN, np.int64)
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        out = arr.astype("datetime64[s]").astype(np.int64)
        out[np.isnat(arr)] = UNKNOWN
        return out
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if any(isinstance(v, datetime) and v.utcoffset() is None for v in arr.tolist()):
        raise ValueError("times must be timezone-aware")
    return np.array([UNKNOWN if v is None else int(v.timestamp()) for v in arr.tolist()], np.int64)


def _column(values, n: int, name: str, dtype, fill):
    arr = np.full(n, fill, dtype) if values is None else np.asarray(values, dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one entry per row ({n}), got shape {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class Pins:
    """Suggestions to rank: equal-length columns, one entry per pin; times as in ``epoch_seconds``."""
    id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    author: np.ndarray | None = None          # account id, NOBODY for none
    created_at: np.ndarray | None = None
    author_since: np.ndarray | None = None    # when the author's account was created
    status: np.ndarray | None = None
    theme: np.ndarray | None = None
    area_m2: np.ndarray | None = None         # roof area of polygon pins, NaN for points
    outline: np.ndarray | None = None         # lon/lat roof polygon, drawn for a one-pin place

    def __post_init__(self):
        n = len(np.asarray(self.id))
        cols = {"id": (np.int64, None), "lon": (np.float64, None), "lat": (np.float64, None),
                "author": (np.int64, NOBODY), "status": (object, None), "theme": (object, None),
                "area_m2": (np.float64, np.nan), "outline": (object, None)}
        for name, (dtype, fill) in cols.items():
            object.__setattr__(self, name, _column(getattr(self, name), n, name, dtype, fill))
        for name in ("created_at", "author_since"):
            object.__setattr__(self, name, _column(epoch_seconds(getattr(self, name), n), n, name, np.int64, 0))
        if (self.author < NOBODY).any():
            raise ValueError("author ids must be >= 0 (or NOBODY)")
        increasing = n < 2 or bool((np.diff(self.id) > 0).all())      # as storage reads them: cheap check
        if not increasing and len(np.unique(self.id)) != n:
            raise ValueError("pin ids must be unique")
        if not (np.isfinite(self.lon).all() and np.isfinite(self.lat).all()):
            raise ValueError("pin coordinates must be finite lon/lat")

    def __len__(self) -> int:
        return len(self.id)

    def take(self, index: np.ndarray) -> Pins:
        """Return the pins at the given positions, in that order (already checked: no new checks)."""
        taken = object.__new__(Pins)
        for f in fields(self):
            object.__setattr__(taken, f.name, getattr(self, f.name)[index])
        return taken


@dataclass(frozen=True, eq=False)
class Votes:
    """Votes: equal-length columns, one entry per vote (voter NOBODY once the link was dropped)."""
    pin_id: np.ndarray
    voter: np.ndarray
    created_at: np.ndarray | None = None
    voter_since: np.ndarray | None = None     # when the voter's account was created

    def __post_init__(self):
        n = len(np.asarray(self.pin_id))
        object.__setattr__(self, "pin_id", _column(self.pin_id, n, "pin_id", np.int64, 0))
        object.__setattr__(self, "voter", _column(self.voter, n, "voter", np.int64, NOBODY))
        for name in ("created_at", "voter_since"):
            object.__setattr__(self, name, _column(epoch_seconds(getattr(self, name), n), n, name, np.int64, 0))
        if (self.voter < NOBODY).any():
            raise ValueError("voter ids must be >= 0 (or NOBODY)")

    def __len__(self) -> int:
        return len(self.pin_id)


NO_VOTES = Votes(np.empty(0, np.int64), np.empty(0, np.int64))


@dataclass(frozen=True)
class Place:
    """One ranked place: its pins, where it is, its support score and the raw counts behind it."""
    rank: int
    score: float
    pin_ids: tuple[int, ...]
    lon: float                                # centroid of the pins
    lat: float
    hull: shapely.Geometry                    # lon/lat polygon around the pins
    is_cluster: bool                          # False for a pin outside every cluster
    pins: int
    votes: int
    voters: int
    authors: int
    people: int
    new_account_people: int
    burst_people: int
    unlinked_votes: int
    area_m2: float | None = None              # total roof area of polygon pins


def select_pins(pins: Pins, *, statuses=(), themes=(), created_from=None, created_to=None) -> Pins:
    """Keep the pins with one of the statuses and themes (when given), created in [from, to), by id."""
    keep = np.ones(len(pins), bool)
    if statuses:
        keep &= np.isin(pins.status, list(statuses))
    if themes:
        keep &= np.isin(pins.theme, list(themes))
    if created_from is not None:
        keep &= pins.created_at >= epoch_seconds([created_from], 1)[0]
    if created_to is not None:
        keep &= pins.created_at < epoch_seconds([created_to], 1)[0]
    if keep.all() and (np.diff(pins.id) > 0).all():       # storage reads them in id order already
        return pins
    index = np.flatnonzero(keep)
    return pins.take(index[np.argsort(pins.id[index], kind="stable")])


def project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat to Belgian Lambert 72 metres."""
    x, y = from_wgs84(LAMBERT72).transform(lon, lat)
    return np.asarray(x, np.float64), np.asarray(y, np.float64)


def rank_hotspots(pins: Pins, votes: Votes = NO_VOTES, *, eps_m: float = 75.0, min_pins: int = 3,
                  statuses=(), themes=(), created_from=None, created_to=None, rule: SupportRule = SupportRule(),
                  hull_buffer_m: float = 20.0, limit: int | None = None) -> list[Place]:
    """Cluster pins and rank the clusters and lone pins by distinct supporters (best first)."""
    pins = select_pins(pins, statuses=statuses, themes=themes, created_from=created_from, created_to=created_to)
    x, y = project(pins.lon, pins.lat)
    clusters = dbscan(x, y, eps_m=eps_m, min_pins=min_pins)
    place = clusters.labels.copy()
    alone = place < 0
    place[alone] = clusters.n_clusters + np.arange(alone.sum())
    return _ranked(pins, votes, place, x, y, clusters.n_clusters, rule, hull_buffer_m, limit)


def rank_pins(pins: Pins, votes: Votes = NO_VOTES, *, statuses=(), themes=(), created_from=None,
              created_to=None, rule: SupportRule = SupportRule(), hull_buffer_m: float = 20.0,
              limit: int | None = None) -> list[Place]:
    """Rank every pin as a place of its own (solar roofs: each roof by its distinct supporters)."""
    pins = select_pins(pins, statuses=statuses, themes=themes, created_from=created_from, created_to=created_to)
    x, y = project(pins.lon, pins.lat)
    return _ranked(pins, votes, np.arange(len(pins)), x, y, 0, rule, hull_buffer_m, limit)


def roof_areas_m2(geometries) -> np.ndarray:
    """Return the area in m² (Lambert 72) of each lon/lat polygon, NaN for other geometries."""
    geoms = np.asarray(geometries, dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    out = np.full(len(geoms), np.nan)
    if polygonal.any():
        t = from_wgs84(LAMBERT72)
        projected = shapely.transform(geoms[polygonal], lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
        out[polygonal] = shapely.area(projected)
    return out


def _ranked(pins, votes, place, x, y, n_clusters, rule, hull_buffer_m, limit) -> list[Place]:
    n_places = int(place.max()) + 1 if len(place) else 0
    if not n_places:
        return []
    s = support(pins, votes, place, n_places, rule)
    first_id = np.full(n_places, np.iinfo(np.int64).max)
    np.minimum.at(first_id, place, pins.id)
    order = np.lexsort((first_id, -s["pins"], -s["people"], -s["score"]))
    if limit is not None:
        order = order[:max(int(limit), 0)]
    return _places(pins, place, x, y, order, n_clusters, s, hull_buffer_m)


def support(pins: Pins, votes: Votes, place: np.ndarray, n_places: int, rule: SupportRule) -> dict[str, np.ndarray]:
    """Apply the support rule: score and raw counts per place (pins sorted by id, place per pin)."""
    pos = np.searchsorted(pins.id, votes.pin_id)
    known = pos < len(pins)
    known[known] = pins.id[pos[known]] == votes.pin_id[known]
    v_pin, voter = pos[known], votes.voter[known]
    v_place, linked, authored = place[v_pin], voter != NOBODY, pins.author != NOBODY
    # Every contribution of a known person: (place, person, when, account created).
    c_place = np.concatenate((place[authored], v_place[linked]))
    c_person = np.concatenate((pins.author[authored], voter[linked]))
    c_time = np.concatenate((pins.created_at[authored], votes.created_at[known][linked]))
    c_since = np.concatenate((pins.author_since[authored], votes.voter_since[known][linked]))
    c_new = (c_since != UNKNOWN) & (c_time != UNKNOWN) & (c_time - c_since < rule.new_account_hours * 3600)
    width = int(c_person.max()) + 1 if len(c_person) else 1
    key = c_place * width + c_person
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = _starts(key)
    sup_place = key[start] // width                     # one entry per (place, supporter)
    sup_new = np.logical_and.reduceat(c_new[order], start) if len(start) else np.empty(0, bool)
    sup_first = np.minimum.reduceat(c_time[order], start) if len(start) else np.empty(0, np.int64)

    def count(where, weights=None):
        return np.bincount(where, weights=weights, minlength=n_places)

    new_place, burst_place, new_weight = _new_accounts(sup_place[sup_new], sup_first[sup_new], rule)
    # People who cannot be told apart (rule 4): the fewest they can be.
    unlinked = np.zeros(n_places, np.int64)
    np.maximum.at(unlinked, place, np.bincount(v_pin[~linked], minlength=len(pins)))
    unlinked = np.maximum(unlinked, count(place[~authored]) > 0)
    is_vote = order >= authored.sum()                   # contributions were authored pins, then votes
    return {
        "score": count(sup_place[~sup_new]) + count(new_place, new_weight) + unlinked,
        "pins": count(place),
        "votes": count(v_place),
        "voters": count(key[is_vote][_starts(key[is_vote])] // width),
        "authors": count(key[~is_vote][_starts(key[~is_vote])] // width),
        "people": count(sup_place) + unlinked,
        "new_account_people": count(sup_place[sup_new]),
        "burst_people": count(burst_place),
        "unlinked_votes": count(v_place[~linked]),
    }


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Positions where a new value starts in a sorted array."""
    if not len(sorted_keys):
        return np.empty(0, np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def _new_accounts(place: np.ndarray, first: np.ndarray, rule: SupportRule):
    """Weigh new-account supporters: 0.25 each, runs with small gaps capped as bursts (rule 3)."""
    order = np.lexsort((first, place))
    place, first = place[order], first[order]
    if not len(place):
        return place, place, np.empty(0)
    breaks = np.r_[True, (place[1:] != place[:-1]) | (first[1:] - first[:-1] > rule.burst_gap_minutes * 60)]
    run = np.cumsum(breaks) - 1
    size = np.bincount(run)
    burst = size >= rule.burst_min_people
    weight = size * rule.new_account_weight
    weight = np.where(burst, np.minimum(weight, rule.burst_cap), weight)
    return place[breaks], place[burst[run]], weight


_COUNTS = ("pins", "votes", "voters", "authors", "people", "new_account_people", "burst_people", "unlinked_votes")


def _places(pins, place, x, y, order, n_clusters, s, hull_buffer_m) -> list[Place]:
    """Build the Place records (centroid, hull, members) of the places in order."""
    chosen = np.zeros(int(place.max()) + 1, bool)
    chosen[order] = True
    members = np.flatnonzero(chosen[place])
    members = members[np.argsort(place[members], kind="stable")]    # by place, then pin id
    places, first, n = np.unique(place[members], return_index=True, return_counts=True)
    dense = np.repeat(np.arange(len(places)), n)       # place j of the chosen ones, per member
    cx = np.bincount(dense, weights=x[members]) / n
    cy = np.bincount(dense, weights=y[members]) / n
    back = to_wgs84(LAMBERT72)
    lon, lat = back.transform(cx, cy)
    hulls = shapely.transform(buffered_hulls(x[members], y[members], n, hull_buffer_m),
                              lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
    area = pins.area_m2[members]
    areas = np.bincount(dense, weights=np.nan_to_num(area))
    has_area = np.bincount(dense, weights=~np.isnan(area)) > 0
    ids = pins.id[members].tolist()
    out = []
    for rank, j in enumerate(np.searchsorted(places, order).tolist(), start=1):
        a, b = int(first[j]), int(first[j] + n[j])
        p = int(places[j])
        outline = pins.outline[members[a]] if b - a == 1 else None
        outline = outline if getattr(outline, "geom_type", "") in ("Polygon", "MultiPolygon") else None
        out.append(Place(rank=rank, score=float(s["score"][p]), pin_ids=tuple(ids[a:b]),
                         lon=float(lon[j]), lat=float(lat[j]), hull=hulls[j] if outline is None else outline,
                         is_cluster=p < n_clusters,
                         **{k: int(s[k][p]) for k in _COUNTS},
                         area_m2=float(areas[j]) if has_area[j] else None))
    return out

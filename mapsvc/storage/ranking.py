"""Read what a ranking or rollout needs from a layer, as numeric columns: pins, and votes with account ages.

Voter and author ids leave this module only towards the ranking service, which counts distinct people
and never returns them. Times are epoch seconds (float; NaN when unknown, e.g. no account).

On PostGIS each query returns its rows packed into one bytea (``string_agg`` of the values' binary
send forms, fixed width per row), which numpy reads in one go: a million votes arrive in well under a
second, where a million Python tuples would not. Account ages are looked up afterwards for the distinct
people only (a join of every vote with users costs more). SpatiaLite runs ordinary queries. Both
backends give the same arrays (tests/db/test_ranking_storage.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Float, bindparam, case, cast, func, literal_column, select, text
from sqlalchemy.orm import Session

from mapsvc.storage.features import FeatureFilter, feature_conditions, not_public_ids
from mapsvc.storage.models import Feature, User, Vote

NO_ONE = -1                       # no author, or a vote whose link to the voter was dropped
_PG_EPOCH = 946_684_800           # PostgreSQL's binary timestamps count microseconds from 2000-01-01 UTC


@dataclass(frozen=True, eq=False)
class PinColumns:
    """A layer's pins (id order): centre lon/lat, author, when, the author's account creation."""
    id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    author: np.ndarray
    created_at: np.ndarray
    author_since: np.ndarray
    outline: np.ndarray | None = None       # shapely geometries, when asked for (roof polygons)


@dataclass(frozen=True, eq=False)
class VoteColumns:
    """The votes on those pins: pin, voter, when, the voter's account creation."""
    pin_id: np.ndarray
    voter: np.ndarray
    created_at: np.ndarray
    voter_since: np.ndarray


def _postgis(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def support_columns(session: Session, layer_id: int, where: FeatureFilter = FeatureFilter(), *,
                    outlines: bool = False) -> tuple[PinColumns, VoteColumns]:
    """Read a layer's pins and their votes, with one look-up of the accounts of authors and voters."""
    pins = pin_columns(session, layer_id, where, outlines=outlines, accounts=False)
    votes = vote_columns(session, layer_id, where, accounts=False)
    since = account_created(session, np.concatenate((pins.author, votes.voter)))
    return (PinColumns(pins.id, pins.lon, pins.lat, pins.author, pins.created_at, since[:len(pins.id)], pins.outline),
            VoteColumns(votes.pin_id, votes.voter, votes.created_at, since[len(pins.id):]))


def pin_columns(session: Session, layer_id: int, where: FeatureFilter = FeatureFilter(), *,
                outlines: bool = False, accounts: bool = True) -> PinColumns:
    """Read a layer's pins that pass the filter, in id order (outlines: the geometries too)."""
    conditions = feature_conditions(session, layer_id, where)
    centre = func.ST_Centroid(Feature.geom)
    point = func.GeometryType(Feature.geom) == "POINT"       # a point is its own centroid: half the cost
    columns = (Feature.id, case((point, func.ST_X(Feature.geom)), else_=func.ST_X(centre)),
               case((point, func.ST_Y(Feature.geom)), else_=func.ST_Y(centre)),
               func.coalesce(Feature.author_id, NO_ONE), Feature.created_at)
    if _postgis(session):
        # Sorting a million rows costs PostgreSQL more than numpy: id order is restored here.
        packed = _packed(session, columns, ("i4", "f8", "f8", "i4", "t"), conditions)
        order = np.argsort(packed[0], kind="stable")
        ids, lon, lat, author, created = (column[order] for column in packed)
    else:
        rows = session.execute(select(*columns[:4], _sqlite_epoch(Feature.created_at))
                               .where(*conditions).order_by(Feature.id)).all()
        ids, lon, lat, author, created = _split(rows, 5, ints=(0, 3))
    outline = None
    if outlines:     # matched by id: a pin added between the two queries must not shift the others
        rows = session.execute(select(Feature.id, func.ST_AsBinary(Feature.geom)).where(*conditions)).all()
        by_id = dict(zip((r[0] for r in rows), shapely.from_wkb([bytes(r[1]) for r in rows])))
        outline = np.array([by_id.get(i) for i in ids.tolist()], dtype=object)
    since = account_created(session, author) if accounts else np.full(len(ids), np.nan)
    return PinColumns(ids, lon, lat, author, created, since, outline)


def vote_columns(session: Session, layer_id: int, where: FeatureFilter = FeatureFilter(), *,
                 accounts: bool = True) -> VoteColumns:
    """Read the votes on a layer's pins that pass the filter (any order); votes on hidden or pending pins stay out."""
    conditions = [Vote.layer_id == layer_id]
    if where != FeatureFilter():
        conditions.append(Vote.feature_id.in_(select(Feature.id).where(*feature_conditions(session, layer_id, where))))
    else:  # the layer's few pending/hidden ids, not a join of every vote with its pin
        conditions.append(Vote.feature_id.not_in(not_public_ids(layer_id)))
    columns = (Vote.feature_id, func.coalesce(Vote.user_id, NO_ONE), Vote.created_at)
    if _postgis(session):
        pin_id, voter, created = _packed(session, columns, ("i4", "i4", "t"), conditions)
    else:
        rows = session.execute(select(*columns[:2], _sqlite_epoch(Vote.created_at)).where(*conditions)).all()
        pin_id, voter, created = _split(rows, 3, ints=(0, 1))
    since = account_created(session, voter) if accounts else np.full(len(pin_id), np.nan)
    return VoteColumns(pin_id, voter, created, since)


def account_created(session: Session, user_ids: np.ndarray) -> np.ndarray:
    """Return when each given account was created (epoch seconds; NaN for NO_ONE or a missing account)."""
    out = np.full(len(user_ids), np.nan)
    linked = user_ids != NO_ONE
    if not linked.any():
        return out
    ids = user_ids[linked]
    lo, hi = int(ids.min()), int(ids.max())
    dense = hi - lo < 4 * len(ids) + 1_000_000        # ids close together: tables indexed by id, no sorting
    if dense:
        present = np.zeros(hi - lo + 1, bool)
        present[ids - lo] = True
        wanted = np.flatnonzero(present) + lo
    else:
        wanted = np.unique(ids)
    if _postgis(session):
        if len(wanted) * 4 >= hi - lo + 1:      # most ids in the range: one range scan beats many index probes
            sql = text("SELECT string_agg(int4send(id) || timestamptz_send(created_at), '') FROM users "
                       "WHERE id BETWEEN :lo AND :hi").bindparams(lo=lo, hi=hi)
        else:
            sql = text("SELECT string_agg(int4send(id) || timestamptz_send(created_at), '') FROM users "
                       "WHERE id = ANY(:ids)").bindparams(bindparam("ids", value=wanted.tolist()))
        known_ids, known_since = _decode(session.execute(sql).scalar(), ("i4", "t"))
    else:
        rows = []
        for start in range(0, len(wanted), 10_000):             # keep the IN list within SQLite's limits
            chunk = wanted[start:start + 10_000].tolist()
            rows += session.execute(select(User.id, _sqlite_epoch(User.created_at)).where(User.id.in_(chunk))).all()
        known_ids, known_since = _split(rows, 2, ints=(0,))
    inside = (known_ids >= lo) & (known_ids <= hi)
    known_ids, known_since = known_ids[inside], known_since[inside]
    if dense:
        since = np.full(hi - lo + 1, np.nan)
        since[known_ids - lo] = known_since
        out[linked] = since[ids - lo]
    elif len(known_ids):
        order = np.argsort(known_ids)
        known_ids, known_since = known_ids[order], known_since[order]
        pos = np.minimum(np.searchsorted(known_ids, ids), len(known_ids) - 1)
        out[linked] = np.where(known_ids[pos] == ids, known_since[pos], np.nan)
    return out


def _sqlite_epoch(column):
    return cast(func.strftime("%s", column), Float)


def _split(rows, width: int, ints: tuple[int, ...]) -> list[np.ndarray]:
    table = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    return [table[:, k].astype(np.int64) if k in ints else table[:, k] for k in range(width)]


_SEND = {"i4": "int4send", "f8": "float8send", "t": "timestamptz_send"}


def _packed(session: Session, columns, kinds: tuple[str, ...], conditions):
    """Run SELECT string_agg(send(c1) || send(c2) ..., '') on PostGIS and decode the one bytea it returns."""
    inner = select(*[c.label(f"c{k}") for k, c in enumerate(columns)]).where(*conditions).subquery("rows")
    packed = " || ".join(f"{_SEND[kind]}(rows.c{k})" for k, kind in enumerate(kinds))
    blob = session.execute(select(literal_column(f"string_agg({packed}, '')")).select_from(inner)).scalar()
    return _decode(blob, kinds)


def _decode(blob, kinds: tuple[str, ...]) -> list[np.ndarray]:
    """Decode fixed-width big-endian rows: i4 -> int64, f8 -> float64, t (timestamptz) -> epoch seconds."""
    dtype = np.dtype([(f"c{k}", {"i4": ">i4", "f8": ">f8", "t": ">i8"}[kind]) for k, kind in enumerate(kinds)])
    table = np.frombuffer(bytes(blob) if blob is not None else b"", dtype)
    out = []
    for k, kind in enumerate(kinds):
        column = table[f"c{k}"]
        if kind == "t":
            limits = np.iinfo(np.int64)
            finite = (column != limits.min) & (column != limits.max)   # -infinity and infinity
            column = np.where(finite, column / 1e6 + _PG_EPOCH, np.nan)
        out.append(column.astype(np.int64 if kind == "i4" else np.float64))
    return out

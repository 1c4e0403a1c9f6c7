"""Read what a ranking or rollout needs from a layer, as numeric columns: pins, and votes with account ages.

Voter and author ids leave this module only towards the ranking service, which counts distinct people
and never returns them. Times are epoch seconds (float, NaN when unknown: no account). On PostGIS the
columns arrive through a binary COPY (a million votes in a fraction of a second); on SpatiaLite through
an ordinary query. Both give the same arrays (tests/db/test_ranking_storage.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Float, Integer, Select, cast, func, literal, select
from sqlalchemy.orm import Session, aliased

from mapsvc.storage.features import FeatureFilter, feature_conditions
from mapsvc.storage.models import Feature, User, Vote

NO_ONE = -1       # no author, or a vote whose link to the voter was dropped


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


def _epoch(session: Session, column):
    """Epoch seconds of a timestamp column, as a float (NaN for NULL on PostGIS, NULL on SQLite)."""
    if _postgis(session):
        return func.coalesce(cast(func.extract("epoch", column), Float), literal(float("nan"), Float))
    return cast(func.strftime("%s", column), Float)


def pin_columns(session: Session, layer_id: int, where: FeatureFilter = FeatureFilter(), *,
                outlines: bool = False) -> PinColumns:
    """Read a layer's pins that pass the filter, in id order (outlines: the geometries too)."""
    author = aliased(User)
    centre = func.ST_Centroid(Feature.geom)
    stmt = (select(Feature.id, func.ST_X(centre), func.ST_Y(centre), func.coalesce(Feature.author_id, NO_ONE),
                   _epoch(session, Feature.created_at), _epoch(session, author.created_at))
            .outerjoin(author, author.id == Feature.author_id)
            .where(*feature_conditions(session, layer_id, where)).order_by(Feature.id))
    cols = _fetch(session, stmt, ("i4", "f8", "f8", "i4", "f8", "f8"))
    outline = None
    if outlines:
        wkb = session.execute(select(func.ST_AsBinary(Feature.geom))
                              .where(*feature_conditions(session, layer_id, where)).order_by(Feature.id))
        outline = shapely.from_wkb([bytes(row[0]) for row in wkb])
    return PinColumns(*cols, outline=outline)


def vote_columns(session: Session, layer_id: int, where: FeatureFilter = FeatureFilter()) -> VoteColumns:
    """Read the votes on a layer's pins that pass the filter (any order)."""
    voter = aliased(User)
    stmt = (select(Vote.feature_id, func.coalesce(Vote.user_id, NO_ONE), _epoch(session, Vote.created_at),
                   _epoch(session, voter.created_at))
            .outerjoin(voter, voter.id == Vote.user_id).where(Vote.layer_id == layer_id))
    if where != FeatureFilter():
        stmt = stmt.join(Feature, Feature.id == Vote.feature_id).where(*feature_conditions(session, layer_id, where))
    return VoteColumns(*_fetch(session, stmt, ("i4", "i4", "f8", "f8")))


def _fetch(session: Session, stmt: Select, kinds: tuple[str, ...]) -> list[np.ndarray]:
    """Run a query of fixed-width, non-NULL numeric columns and return one array per column."""
    if _postgis(session):
        return _copy_binary(session, stmt, kinds)
    rows = session.execute(stmt).all()
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(kinds))
    return [table[:, k].astype(np.int64) if kind == "i4" else table[:, k] for k, kind in enumerate(kinds)]


def _copy_binary(session: Session, stmt: Select, kinds: tuple[str, ...]) -> list[np.ndarray]:
    """Stream the query out of PostgreSQL with COPY ... (FORMAT BINARY) and decode it with numpy."""
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT BINARY)", compiled.params) as copy:
            data = b"".join(bytes(block) for block in copy)
    # Header: 11-byte signature, int32 flags, int32 extension length; trailer: int16 -1.
    offset = 19 + int.from_bytes(data[15:19], "big")
    fields = [("n", ">i2")]
    for k, kind in enumerate(kinds):
        fields += [(f"len{k}", ">i4"), (f"c{k}", ">" + kind)]
    dtype = np.dtype(fields)
    count = (len(data) - offset - 2) // dtype.itemsize
    table = np.frombuffer(data, dtype, count=count, offset=offset)
    if count and ((table["n"] != len(kinds)).any()
                  or any((table[f"len{k}"] != int(kind[1])).any() for k, kind in enumerate(kinds))):
        raise RuntimeError("unexpected NULL or width in a binary COPY of fixed-width columns")
    return [table[f"c{k}"].astype(np.int64 if kind == "i4" else np.float64) for k, kind in enumerate(kinds)]

"""Queries and writes on votes. Who voted stays here: callers get counts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapsvc.storage.models import Vote


def vote_counts(session: Session, feature_ids: Iterable[int]) -> dict[int, int]:
    """Count the votes of each feature (0 for none)."""
    ids = list(feature_ids)
    counts = dict.fromkeys(ids, 0)
    for start in range(0, len(ids), 10_000):  # keep the IN list within database limits
        chunk = ids[start:start + 10_000]
        rows = session.execute(select(Vote.feature_id, func.count()).where(Vote.feature_id.in_(chunk))
                               .group_by(Vote.feature_id))
        counts.update({feature_id: n for feature_id, n in rows})
    return counts


def vote_count_column():
    """Return a correlated subquery counting a feature's votes, for use in a SELECT on features."""
    from mapsvc.storage.models import Feature

    return (select(func.count(Vote.id)).where(Vote.feature_id == Feature.id).correlate(Feature)
            .scalar_subquery().label("vote_count"))

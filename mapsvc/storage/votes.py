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


def has_voted(session: Session, feature_id: int, user_id: int) -> bool:
    """Say whether a person has voted for a feature."""
    return session.scalar(select(func.count()).select_from(Vote)
                          .where(Vote.feature_id == feature_id, Vote.user_id == user_id)) > 0


def votes_used(session: Session, layer_id: int, user_id: int) -> int:
    """Count a person's votes on a layer's visible pins (the budget they use up)."""
    from mapsvc.storage.models import Feature

    # A vote on a hidden or pending pin uses no budget: its voter cannot see it on the map. After a restore,
    # it counts again, so a person may hold more votes than the budget; new votes wait until they are under it.
    # "visible" is mapsvc.storage.features.VISIBLE (that module imports this one).
    return session.scalar(select(func.count()).select_from(Vote).join(Feature, Feature.id == Vote.feature_id)
                          .where(Vote.layer_id == layer_id, Vote.user_id == user_id,
                                 Feature.visibility == "visible"))


def voted_features(session: Session, layer_id: int, user_id: int) -> list[int]:
    """Return the ids of the features a person voted for on a layer (their own data only)."""
    return list(session.scalars(select(Vote.feature_id).where(Vote.layer_id == layer_id, Vote.user_id == user_id)
                                .order_by(Vote.feature_id)))


def add_vote(session: Session, feature_id: int, layer_id: int, user_id: int, now) -> None:
    """Insert a vote; the unique constraint refuses a second one for the same person and feature."""
    session.add(Vote(feature_id=feature_id, layer_id=layer_id, user_id=user_id, created_at=now))
    session.flush()


def remove_vote(session: Session, feature_id: int, user_id: int) -> int:
    """Delete a person's vote for a feature; return how many rows went (0 or 1)."""
    from sqlalchemy import delete

    return session.execute(delete(Vote).where(Vote.feature_id == feature_id, Vote.user_id == user_id)).rowcount

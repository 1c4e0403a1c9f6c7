"""Queries and writes of moderation: flags, the audit trail, and a layer's moderation queue.

Flags and who raised them are for moderators only: nothing here feeds a public answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from mapsvc.storage.features import HIDDEN, PENDING, VISIBLE
from mapsvc.storage.models import Feature, Flag, ModerationEvent
from mapsvc.storage.votes import vote_count_column

# What a queue may be narrowed to: everything, pins with open flags, or one visibility.
SHOW = ("all", "flagged", PENDING, HIDDEN, VISIBLE)


@dataclass(frozen=True)
class QueueRow:
    """One pin in a moderation queue: the feature, its open flags and their reasons, and its vote count."""

    feature: Feature
    open_flags: int
    flag_reasons: tuple[str, ...]
    vote_count: int


def find_feature(session: Session, layer_id: int, feature_id: int, *, lock: bool = False) -> Feature | None:
    """Return a feature of a layer whatever its visibility (locked for update when asked), or None."""
    query = select(Feature).where(Feature.layer_id == layer_id, Feature.id == feature_id)
    if lock:  # two moderators acting on one pin at once: one after the other (PostGIS; SQLite locks the file)
        query = query.with_for_update()
    return session.scalar(query)


def add_event(session: Session, feature_id: int, moderator_id: int | None, action: str, reason: str | None,
              now: datetime) -> ModerationEvent:
    """Write one line of the audit trail."""
    event = ModerationEvent(feature_id=feature_id, moderator_id=moderator_id, action=action, reason=reason,
                            created_at=now)
    session.add(event)
    return event


def events_of(session: Session, feature_id: int) -> list[ModerationEvent]:
    """Return a feature's audit trail, oldest first."""
    return list(session.scalars(select(ModerationEvent).where(ModerationEvent.feature_id == feature_id)
                                .order_by(ModerationEvent.created_at, ModerationEvent.id)))


def has_flagged(session: Session, feature_id: int, user_id: int) -> bool:
    """Say whether this person has flagged this pin before (resolved or not)."""
    return session.scalar(select(func.count()).select_from(Flag)
                          .where(Flag.feature_id == feature_id, Flag.user_id == user_id)) > 0


def add_flag(session: Session, feature_id: int, user_id: int, reason: str | None, now: datetime) -> None:
    """Store a flag; the unique (feature_id, user_id) constraint refuses a second one (IntegrityError)."""
    session.add(Flag(feature_id=feature_id, user_id=user_id, reason=reason, created_at=now))
    session.flush()


def resolve_flags(session: Session, feature_id: int, now: datetime) -> int:
    """Mark a pin's open flags resolved (a moderator acted on it); return how many."""
    return session.execute(update(Flag).where(Flag.feature_id == feature_id, Flag.resolved_at.is_(None))
                           .values(resolved_at=now)).rowcount


def open_flag_counts(session: Session, feature_ids: list[int]) -> dict[int, int]:
    """Count the open flags of each feature."""
    counts = dict.fromkeys(feature_ids, 0)
    if feature_ids:
        counts.update(session.execute(
            select(Flag.feature_id, func.count()).where(Flag.feature_id.in_(feature_ids), Flag.resolved_at.is_(None))
            .group_by(Flag.feature_id)).all())
    return counts


def _open_flags():
    return (select(Flag.feature_id, func.count().label("n")).where(Flag.resolved_at.is_(None))
            .group_by(Flag.feature_id).subquery("open_flags"))


def _queue_conditions(layer_id: int, show: str, flags) -> list:
    conditions = [Feature.layer_id == layer_id]
    if show == "flagged":
        conditions.append(flags.c.n > 0)
    elif show in (PENDING, HIDDEN, VISIBLE):
        conditions.append(Feature.visibility == show)
    return conditions


def queue(session: Session, layer_id: int, *, show: str = "all", limit: int = 100,
          offset: int = 0) -> tuple[list[QueueRow], int]:
    """Return a page of a layer's pins for moderators, and how many match: pins with open flags first (most
    flags first), then pending ones, then the newest."""
    flags = _open_flags()
    flagged = func.coalesce(flags.c.n, 0)
    conditions = _queue_conditions(layer_id, show, flags)
    rows = session.execute(
        select(Feature, flagged, vote_count_column())
        .outerjoin(flags, flags.c.feature_id == Feature.id)
        .where(*conditions)
        .order_by(case((flagged > 0, 0), else_=1), flagged.desc(),
                  case((Feature.visibility == PENDING, 0), else_=1), Feature.created_at.desc(), Feature.id.desc())
        .limit(limit).offset(offset)).all()
    total = session.scalar(select(func.count()).select_from(Feature)
                           .outerjoin(flags, flags.c.feature_id == Feature.id).where(*conditions))
    reasons = _open_reasons(session, [feature.id for feature, n, _ in rows if n])
    return [QueueRow(feature, int(n), reasons.get(feature.id, ()), int(votes or 0))
            for feature, n, votes in rows], int(total)


def _open_reasons(session: Session, feature_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Return the reasons given with each feature's open flags, oldest first (not who gave them)."""
    found: dict[int, list[str]] = {}
    if feature_ids:
        for feature_id, reason in session.execute(
                select(Flag.feature_id, Flag.reason)
                .where(Flag.feature_id.in_(feature_ids), Flag.resolved_at.is_(None), Flag.reason.is_not(None))
                .order_by(Flag.created_at, Flag.id)):
            if reason.strip():
                found.setdefault(feature_id, []).append(reason)
    return {feature_id: tuple(reasons) for feature_id, reasons in found.items()}

"""Queries on a layer's news items and timeline phases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mapsvc.storage.models import Layer, NewsItem, TimelinePhase

PHASE_ORDER = ("inform", "consult", "decide", "realise")


def _published(layer_id: int, until: date | None) -> list:
    """Conditions for a layer's news, up to and including the day `until` (None: scheduled items too)."""
    conditions = [NewsItem.layer_id == layer_id]
    if until is not None:
        conditions.append(NewsItem.published_on <= until)
    return conditions


def list_news(session: Session, layer_id: int, *, until: date | None = None,
              limit: int | None = None) -> list[NewsItem]:
    """Return a layer's news published by `until` (None: all, scheduled ones too), newest first (by publication
    day, then the latest added)."""
    statement = (select(NewsItem).where(*_published(layer_id, until))
                 .order_by(NewsItem.published_on.desc(), NewsItem.id.desc()))
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def count_news(session: Session, layer_id: int, *, until: date | None = None) -> int:
    """Count a layer's news items published by `until` (None: all)."""
    return session.scalar(select(func.count()).select_from(NewsItem).where(*_published(layer_id, until))) or 0


def get_news(session: Session, layer_id: int, news_id: int, *, until: date | None = None) -> NewsItem | None:
    """Return one news item of a layer published by `until` (None: also a scheduled one), or None."""
    return session.scalar(select(NewsItem).where(*_published(layer_id, until), NewsItem.id == news_id))


def add_news(session: Session, layer_id: int, values: dict[str, Any]) -> NewsItem:
    """Store a new news item on a layer."""
    item = NewsItem(layer_id=layer_id, **values)
    session.add(item)
    session.flush()
    return item


def delete_news(session: Session, item: NewsItem) -> None:
    """Remove a news item."""
    session.delete(item)
    session.flush()


def timeline(session: Session, layer_id: int) -> list[TimelinePhase]:
    """Return a layer's phases in their sequence (inform, consult, decide, realise)."""
    phases = session.scalars(select(TimelinePhase).where(TimelinePhase.layer_id == layer_id))
    return sorted(phases, key=lambda p: PHASE_ORDER.index(p.phase))


def lock_layer(session: Session, layer_id: int) -> None:
    """Serialise concurrent rewrites of a layer's timeline until the transaction ends."""
    statement = select(Layer.id).where(Layer.id == layer_id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    # SQLite: the write transaction already began IMMEDIATE, which serialises every writer.
    session.execute(statement)


def replace_timeline(session: Session, layer_id: int, rows: Iterable[dict[str, Any]]) -> list[TimelinePhase]:
    """Replace every phase of a layer's timeline with `rows` (in the caller's transaction)."""
    lock_layer(session, layer_id)
    session.execute(delete(TimelinePhase).where(TimelinePhase.layer_id == layer_id))
    phases = [TimelinePhase(layer_id=layer_id, **row) for row in rows]
    session.add_all(phases)
    session.flush()
    return timeline(session, layer_id)

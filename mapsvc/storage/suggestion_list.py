"""The list view of a layer's public suggestions: one sorted page with counts and the viewer's own marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapsvc.storage.features import PENDING, visible_to
from mapsvc.storage.models import Feature, Vote

# Sort keys the list offers; each ends on the id so that pages never overlap or skip a row.
SORTS = ("votes", "newest", "oldest")


@dataclass(frozen=True)
class ListedSuggestion:
    """One row of the list: what a person reads and needs to act on it (no author, no voters)."""

    id: int
    lon: float
    lat: float
    properties: dict[str, Any]
    theme: str | None
    status: str | None
    is_demo: bool
    vote_count: int
    created_at: datetime
    mine: bool
    voted: bool
    pending: bool   # the viewer's own pin, waiting for pre-moderation


def _listed(layer_id: int, viewer_id: int | None) -> list:
    # What the map shows this person: public suggestions, and their own pins waiting for pre-moderation.
    return [Feature.layer_id == layer_id, visible_to(viewer_id)]


def count_listed(session: Session, layer_id: int, viewer_id: int | None) -> int:
    """Count the suggestions of a layer a person sees in the list."""
    return session.scalar(select(func.count()).select_from(Feature).where(*_listed(layer_id, viewer_id)))


def page_of_suggestions(session: Session, layer_id: int, *, sort: str, limit: int, offset: int,
                        viewer_id: int | None) -> list[ListedSuggestion]:
    """Return one page of the suggestions a person sees on a layer, in the given order, with vote counts."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    votes = (select(Vote.feature_id, func.count(Vote.id).label("n")).where(Vote.layer_id == layer_id)
             .group_by(Vote.feature_id).subquery())
    count = func.coalesce(votes.c.n, 0)
    order = {"votes": (count.desc(), Feature.created_at.desc(), Feature.id.desc()),
             "newest": (Feature.created_at.desc(), Feature.id.desc()),
             "oldest": (Feature.created_at.asc(), Feature.id.asc())}[sort]
    rows = session.execute(
        select(Feature.id, Feature.geom, Feature.properties, Feature.theme, Feature.status, Feature.is_demo,
               count, Feature.created_at, Feature.author_id, Feature.visibility)
        .outerjoin(votes, votes.c.feature_id == Feature.id)
        .where(*_listed(layer_id, viewer_id))
        .order_by(*order).limit(limit).offset(offset)
    ).all()
    voted: set[int] = set()
    if viewer_id is not None and rows:
        voted = set(session.scalars(select(Vote.feature_id).where(
            Vote.user_id == viewer_id, Vote.feature_id.in_([r[0] for r in rows]))))
    listed = []
    for fid, geom, props, theme, status, demo, n, created, author, visibility in rows:
        # The centre of the feature's box, where the map draws its pin (a roof outline's too).
        minx, miny, maxx, maxy = to_shape(geom).bounds
        listed.append(ListedSuggestion(fid, (minx + maxx) / 2, (miny + maxy) / 2, dict(props or {}), theme, status, bool(demo),
                                       int(n or 0), created, viewer_id is not None and author == viewer_id,
                                       fid in voted, visibility == PENDING))
    return listed

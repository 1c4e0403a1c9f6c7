"""Queries and writes on follows (a platform, a theme, a layer or one pin) and on who receives updates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mapsvc.storage.models import Feature, Follow, Layer, ModerationEvent, User


def _scope(platform_id: int, layer_id: int | None, feature_id: int | None, theme: str | None):
    """The WHERE clause of exactly one scope (NULLs compared as NULLs, like the unique index)."""
    def same(column, value):
        return column.is_(None) if value is None else column == value

    return and_(Follow.platform_id == platform_id, same(Follow.layer_id, layer_id),
                same(Follow.feature_id, feature_id), same(Follow.theme, theme))


def find_follow(session: Session, user_id: int, platform_id: int, *, layer_id: int | None = None,
                feature_id: int | None = None, theme: str | None = None) -> Follow | None:
    """Return the user's follow of exactly this scope, or None."""
    return session.scalar(select(Follow).where(Follow.user_id == user_id,
                                               _scope(platform_id, layer_id, feature_id, theme)))


def add_follow(session: Session, user_id: int, platform_id: int, *, layer_id: int | None = None,
               feature_id: int | None = None, theme: str | None = None, now: datetime) -> tuple[Follow, bool]:
    """Follow a scope once; return the follow and whether it is new (a repeat changes nothing)."""
    found = find_follow(session, user_id, platform_id, layer_id=layer_id, feature_id=feature_id, theme=theme)
    if found is not None:
        return found, False
    follow = Follow(user_id=user_id, platform_id=platform_id, layer_id=layer_id, feature_id=feature_id,
                    theme=theme, created_at=now)
    try:
        # A savepoint: a double click racing itself on the unique index loses only this insert.
        with session.begin_nested():
            session.add(follow)
            session.flush()
    except IntegrityError:
        found = find_follow(session, user_id, platform_id, layer_id=layer_id, feature_id=feature_id, theme=theme)
        if found is None:
            raise
        return found, False
    return follow, True


def remove_follow(session: Session, user_id: int, platform_id: int, *, layer_id: int | None = None,
                  feature_id: int | None = None, theme: str | None = None) -> int:
    """Stop following exactly this scope; return how many follows went (0 or 1)."""
    result = session.execute(delete(Follow).where(Follow.user_id == user_id,
                                                  _scope(platform_id, layer_id, feature_id, theme))
                             .execution_options(synchronize_session=False))
    return result.rowcount


def remove_follow_by_id(session: Session, user_id: int, follow_id: int) -> int:
    """Remove one follow of the user by id; return how many went (0 when it was gone already)."""
    result = session.execute(delete(Follow).where(Follow.user_id == user_id, Follow.id == follow_id)
                             .execution_options(synchronize_session=False))
    return result.rowcount


def remove_all_follows(session: Session, user_id: int) -> int:
    """Remove every follow of the user; return how many."""
    result = session.execute(delete(Follow).where(Follow.user_id == user_id)
                             .execution_options(synchronize_session=False))
    return result.rowcount


def follows_of(session: Session, user_id: int) -> list[Follow]:
    """Return the user's follows, oldest first."""
    return list(session.scalars(select(Follow).where(Follow.user_id == user_id).order_by(Follow.id)))


def get_follow(session: Session, follow_id: int) -> Follow | None:
    """Return one follow by id, or None."""
    return session.get(Follow, follow_id)


def mailable_users(session: Session, user_ids: Iterable[int]) -> list[User]:
    """Return the active users among these ids that have an e-mail address, by id (OIDC-only: none)."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.id.in_(ids), User.is_active.is_(True),
                                                   User.email.is_not(None)).order_by(User.id)))


def followers_of_feature(session: Session, feature: Feature) -> list[tuple[int, int]]:
    """Return (user_id, follow_id) of those who follow the pin itself or its whole layer (one row per user)."""
    rows = session.execute(
        select(Follow.user_id, Follow.id).where(
            or_(Follow.feature_id == feature.id,
                and_(Follow.layer_id == feature.layer_id, Follow.feature_id.is_(None))))
        .order_by(Follow.user_id, Follow.feature_id.is_(None), Follow.id))
    # The pin's own follow first: its unsubscribe link then removes exactly what brought the mail.
    chosen: dict[int, int] = {}
    for user_id, follow_id in rows:
        chosen.setdefault(user_id, follow_id)
    return sorted(chosen.items())


def audience(session: Session, platform_id: int, *, layer_ids: Iterable[int] = (),
             themes: Iterable[str] = (), everyone: bool = False) -> list[tuple[int, int]]:
    """Return (user_id, follow_id) of a platform's followers of these layers or themes, or of the whole platform.

    Followers of the whole platform are always in; `everyone` takes every follower of anything on it
    (also single pins). The follow id is the one whose unsubscribe link the mail will carry.
    """
    layer_ids, themes = list(layer_ids), list(themes)
    platform_wide = and_(Follow.layer_id.is_(None), Follow.feature_id.is_(None), Follow.theme.is_(None))
    wanted = [platform_wide]
    if layer_ids:
        wanted.append(and_(Follow.layer_id.in_(layer_ids), Follow.feature_id.is_(None)))
    if themes:
        wanted.append(and_(Follow.theme.in_(themes), Follow.feature_id.is_(None)))
    condition = Follow.id.is_not(None) if everyone else or_(*wanted)
    rows = session.execute(select(Follow.user_id, Follow.id, Follow.layer_id, Follow.theme, Follow.feature_id)
                           .where(Follow.platform_id == platform_id, condition)
                           .order_by(Follow.user_id, Follow.id))
    # Prefer the narrowest follow that matched (layer or theme over the whole platform, a pin last).
    best: dict[int, tuple[int, int]] = {}
    for user_id, follow_id, layer_id, theme, feature_id in rows:
        rank = 2 if feature_id is not None else (0 if (layer_id or theme) else 1)
        if user_id not in best or rank < best[user_id][0]:
            best[user_id] = (rank, follow_id)
    return sorted((user_id, follow_id) for user_id, (_rank, follow_id) in best.items())


def digest_items(session: Session, user_id: int, since: datetime, until: datetime, *,
                 limit: int = 50) -> tuple[list[tuple[Feature, Layer]], list[tuple[Feature, Layer]]]:
    """Return the new public pins, and older ones whose status changed, in (since, until] in what the user follows."""
    scopes = []
    for follow in follows_of(session, user_id):
        if follow.feature_id is not None:
            scopes.append(Feature.id == follow.feature_id)
        elif follow.layer_id is not None:
            scopes.append(Feature.layer_id == follow.layer_id)
        elif follow.theme is not None:
            scopes.append(and_(Layer.platform_id == follow.platform_id, Feature.theme == follow.theme))
        else:
            scopes.append(Layer.platform_id == follow.platform_id)
    if not scopes:
        return [], []
    base = (select(Feature, Layer).join(Layer, Layer.id == Feature.layer_id)
            .where(or_(*scopes), Feature.visibility == "visible", Feature.is_demo.is_(False),
                   Layer.is_public.is_(True)))
    new = [(feature, layer) for feature, layer in session.execute(
        base.where(Feature.created_at > since, Feature.created_at <= until)
        .order_by(Feature.created_at, Feature.id).limit(limit))]
    # Status changes are read from the moderation audit trail ("status:<new status>" events).
    changed_ids = select(ModerationEvent.feature_id).where(
        ModerationEvent.action.like("status:%"), ModerationEvent.created_at > since,
        ModerationEvent.created_at <= until)
    changed = [(feature, layer) for feature, layer in session.execute(
        base.where(Feature.id.in_(changed_ids), Feature.created_at <= since)
        .order_by(Feature.updated_at, Feature.id).limit(limit))]
    return new, changed

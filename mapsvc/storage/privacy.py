"""Queries and writes on one person's data: reading it all, erasing it, and dropping old voter links."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from mapsvc.storage.models import (
    Announcement,
    ApiToken,
    Base,
    Feature,
    Flag,
    Follow,
    Layer,
    ModerationEvent,
    NewsItem,
    OidcIdentity,
    OutgoingMail,
    Platform,
    RoleGrant,
    User,
    Vote,
)

UNSENT = ("queued", "sending", "failed")
REDACTED = "[removed]"


def _layers_of(platform_ids: Collection[int]):
    return select(Layer.id).where(Layer.platform_id.in_(list(platform_ids)))


def pins_of(session: Session, user_id: int) -> list[tuple[Feature, Any, str, str]]:
    """Return a person's pins as (feature, shapely geometry, platform slug, layer slug), by id."""
    rows = session.execute(
        select(Feature, Platform.slug, Layer.slug).join(Layer, Feature.layer_id == Layer.id)
        .join(Platform, Layer.platform_id == Platform.id).where(Feature.author_id == user_id).order_by(Feature.id))
    return [(feature, to_shape(feature.geom), platform, layer) for feature, platform, layer in rows]


def votes_of(session: Session, user_id: int) -> list[tuple[Vote, str, str]]:
    """Return a person's own votes as (vote, platform slug, layer slug), by id."""
    return list(session.execute(
        select(Vote, Platform.slug, Layer.slug).join(Layer, Vote.layer_id == Layer.id)
        .join(Platform, Layer.platform_id == Platform.id).where(Vote.user_id == user_id).order_by(Vote.id)))


def follows_of(session: Session, user_id: int) -> list[tuple[Follow, str, str | None]]:
    """Return a person's follows as (follow, platform slug, layer slug or None), by id."""
    return list(session.execute(
        select(Follow, Platform.slug, Layer.slug).join(Platform, Follow.platform_id == Platform.id)
        .outerjoin(Layer, Follow.layer_id == Layer.id).where(Follow.user_id == user_id).order_by(Follow.id)))


def flags_of(session: Session, user_id: int) -> list[Flag]:
    """Return the flags a person raised, by id."""
    return list(session.scalars(select(Flag).where(Flag.user_id == user_id).order_by(Flag.id)))


def mail_to(session: Session, user_id: int) -> list[OutgoingMail]:
    """Return the queued or sent mails addressed to a person's account, by id."""
    return list(session.scalars(select(OutgoingMail).where(OutgoingMail.user_id == user_id)
                                .order_by(OutgoingMail.id)))


def news_by(session: Session, user_id: int) -> list[tuple[NewsItem, str, str]]:
    """Return the news items a person wrote as (item, platform slug, layer slug), by id."""
    return list(session.execute(
        select(NewsItem, Platform.slug, Layer.slug).join(Layer, NewsItem.layer_id == Layer.id)
        .join(Platform, Layer.platform_id == Platform.id).where(NewsItem.author_id == user_id)
        .order_by(NewsItem.id)))


def announcements_by(session: Session, user_id: int) -> list[tuple[Announcement, str, str | None]]:
    """Return the announcements a person wrote as (announcement, platform slug, layer slug or None), by id."""
    return list(session.execute(
        select(Announcement, Platform.slug, Layer.slug).join(Platform, Announcement.platform_id == Platform.id)
        .outerjoin(Layer, Announcement.layer_id == Layer.id).where(Announcement.author_id == user_id)
        .order_by(Announcement.id)))


def moderation_by(session: Session, user_id: int) -> list[tuple[ModerationEvent, str, str]]:
    """Return the moderation actions a person took as (event, platform slug, layer slug), by id."""
    return list(session.execute(
        select(ModerationEvent, Platform.slug, Layer.slug).join(Feature, ModerationEvent.feature_id == Feature.id)
        .join(Layer, Feature.layer_id == Layer.id).join(Platform, Layer.platform_id == Platform.id)
        .where(ModerationEvent.moderator_id == user_id).order_by(ModerationEvent.id)))


def moderated_by(session: Session, user_id: int) -> list[tuple[int, Any, Any, str | None, str, str]]:
    """Return the pins a person last moderated as (feature id, visibility, moderated at, reason, platform, layer)."""
    return list(session.execute(
        select(Feature.id, Feature.visibility, Feature.moderated_at, Feature.moderation_reason, Platform.slug,
               Layer.slug).join(Layer, Feature.layer_id == Layer.id).join(Platform, Layer.platform_id == Platform.id)
        .where(Feature.moderated_by == user_id).order_by(Feature.id)).all())


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """Return a person's API tokens (revoked ones too), by id."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def identities_of(session: Session, user_id: int) -> list[OidcIdentity]:
    """Return the OpenID Connect logins tied to an account, by id."""
    return list(session.scalars(select(OidcIdentity).where(OidcIdentity.user_id == user_id)
                                .order_by(OidcIdentity.id)))


def grants_of(session: Session, user_id: int) -> list[tuple[str, str, str | None]]:
    """Return a person's roles as (role, platform slug, layer slug or None)."""
    return list(session.execute(
        select(RoleGrant.role, Platform.slug, Layer.slug).join(Platform, RoleGrant.platform_id == Platform.id)
        .outerjoin(Layer, RoleGrant.layer_id == Layer.id).where(RoleGrant.user_id == user_id)
        .order_by(RoleGrant.role, Platform.slug, Layer.slug)).all())


def contributions_by_platform(session: Session, user_id: int) -> list[tuple[Platform, int, int]]:
    """Return (platform, pins, votes) for every platform a person has pins or votes on, by slug."""
    pins = dict(session.execute(select(Layer.platform_id, func.count()).join(Feature, Feature.layer_id == Layer.id)
                                .where(Feature.author_id == user_id).group_by(Layer.platform_id)).all())
    votes = dict(session.execute(select(Layer.platform_id, func.count()).join(Vote, Vote.layer_id == Layer.id)
                                 .where(Vote.user_id == user_id).group_by(Layer.platform_id)).all())
    ids = set(pins) | set(votes)
    if not ids:
        return []
    platforms = session.scalars(select(Platform).where(Platform.id.in_(ids)).order_by(Platform.slug))
    return [(p, pins.get(p.id, 0), votes.get(p.id, 0)) for p in platforms]


def _redact(value: Any, needle: str) -> Any:
    """Replace an e-mail address inside free text (any case), in nested JSON too."""
    if isinstance(value, str):
        lowered, out, start = value.lower(), [], 0
        while (found := lowered.find(needle, start)) >= 0:
            out.append(value[start:found] + REDACTED)
            start = found + len(needle)
        return "".join(out) + value[start:] if out else value
    if isinstance(value, dict):
        return {key: _redact(item, needle) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item, needle) for item in value]
    return value


# Columns that point at users and are dealt with by name below; any other (added later) is handled generically.
_HANDLED = {("features", "author_id"), ("features", "moderated_by"), ("votes", "user_id"), ("flags", "user_id"),
            ("outgoing_mail", "user_id"), ("role_grants", "user_id"), ("api_tokens", "user_id"),
            ("oidc_identities", "user_id"), ("follows", "user_id"), ("moderation_events", "moderator_id"),
            ("news_items", "author_id"), ("announcements", "author_id")}


def erase_user(session: Session, user_id: int, *, remove_pins_on: Collection[int],
               remove_votes_on: Collection[int]) -> dict[str, int]:
    """Erase an account and its personal data; pins and votes go on the given platforms, elsewhere lose their link.

    Runs inside the caller's transaction; returns how many rows each step touched.
    """
    user = session.get(User, user_id)
    email = (user.email or "").strip().lower()
    done: dict[str, int] = {}

    def run(name: str, statement) -> None:
        done[name] = session.execute(statement, execution_options={"synchronize_session": False}).rowcount or 0

    run("votes_removed", delete(Vote).where(Vote.user_id == user_id, Vote.layer_id.in_(_layers_of(remove_votes_on))))
    run("votes_unlinked", update(Vote).where(Vote.user_id == user_id).values(user_id=None))
    run("pins_removed", delete(Feature).where(Feature.author_id == user_id,
                                              Feature.layer_id.in_(_layers_of(remove_pins_on))))
    if email:  # an address typed into one's own pin would survive the anonymisation otherwise
        for feature in session.scalars(select(Feature).where(Feature.author_id == user_id)):
            redacted = _redact(feature.properties, email)
            if redacted != feature.properties:
                feature.properties = redacted
        session.flush()
    # Losing the author is no edit of the pin: updated_at keeps its value.
    run("pins_anonymised", update(Feature).where(Feature.author_id == user_id)
        .values(author_id=None, updated_at=Feature.updated_at))
    # Flags are moderation signals about a pin: they stay (anonymous) so that a pin's flag count holds.
    flags = list(session.scalars(select(Flag).where(Flag.user_id == user_id)))
    for flag in flags:
        flag.user_id, flag.reason = None, _redact(flag.reason, email) if email else flag.reason
    done["flags_anonymised"] = len(flags)
    # Unsent mail to them is never sent; sent mail stays as a record of sending, without address or content.
    to_them = or_(OutgoingMail.user_id == user_id,
                  func.lower(OutgoingMail.to_address) == email) if email else OutgoingMail.user_id == user_id
    run("mail_deleted", delete(OutgoingMail).where(to_them, OutgoingMail.state.in_(UNSENT)))
    run("mail_wiped", update(OutgoingMail).where(to_them).values(
        user_id=None, to_address=None, body_text="", body_html=None, headers={}, last_error=None,
        dedupe_key=None))  # a key naming the account id could block mail to a later account with the same id
    for name, model in (("grants_deleted", RoleGrant), ("tokens_deleted", ApiToken),
                        ("identities_deleted", OidcIdentity), ("follows_deleted", Follow)):
        run(name, delete(model).where(model.user_id == user_id))
    for name, column in (("moderated_unlinked", Feature.moderated_by),
                         ("moderation_events_unlinked", ModerationEvent.moderator_id),
                         ("news_unlinked", NewsItem.author_id), ("announcements_unlinked", Announcement.author_id)):
        run(name, update(column.class_).where(column == user_id).values({column.key: None}))
    _erase_other_references(session, user_id)
    session.expire_all()
    run("users_deleted", delete(User).where(User.id == user_id))
    return done


def _erase_other_references(session: Session, user_id: int) -> None:
    """Clear references to users in columns added after this module was written (NULL them, or delete rows)."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            points_at_users = any(fk.column.table.name == "users" for fk in column.foreign_keys)
            if not points_at_users or (table.name, column.name) in _HANDLED or table.name == "users":
                continue
            if column.nullable:
                session.execute(update(table).where(column == user_id).values({column.name: None}))
            else:
                session.execute(delete(table).where(column == user_id))


def retention_layers(session: Session) -> list[tuple[Layer, str]]:
    """Return every closed layer with a vote retention period, with its platform's slug."""
    return list(session.execute(
        select(Layer, Platform.slug).join(Platform, Layer.platform_id == Platform.id)
        .where(Layer.vote_retention_days.is_not(None), Layer.closes_at.is_not(None))
        .order_by(Platform.slug, Layer.slug)).all())


def linked_votes(session: Session, layer_id: int) -> int:
    """Count a layer's votes that still know their voter."""
    return session.scalar(select(func.count()).select_from(Vote)
                          .where(Vote.layer_id == layer_id, Vote.user_id.is_not(None)))


def unlink_votes(session: Session, layer: Layer, now: datetime) -> int:
    """Drop the link between a layer's votes and their voters (the votes stay counted); return how many."""
    count = session.execute(update(Vote).where(Vote.layer_id == layer.id, Vote.user_id.is_not(None))
                            .values(user_id=None), execution_options={"synchronize_session": False}).rowcount or 0
    if count or layer.votes_unlinked_at is None:  # the last time links were dropped
        layer.votes_unlinked_at = now
    session.flush()
    return count

"""Officials' updates and invitations to the followers of a layer, a theme or a whole platform."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, Forbidden, Unauthorized, ValidationFailed
from mapsvc.services.catalogue import get_layer, get_platform
from mapsvc.services.following import describe, platform_themes
from mapsvc.services.following_mail import FOLLOW, Paragraph, links_for, send_update
from mapsvc.services.following_text import language_of, localised, mail_text, theme_name
from mapsvc.services.permissions import Actor, is_official
from mapsvc.storage import following as store
from mapsvc.storage.models import Announcement, Follow, Layer, Platform, User

KEYS = ("layer", "theme", "subject", "body")
SUBJECT_MAX = 200
BODY_MAX = 10_000


@dataclass
class Draft:
    """A checked announcement: where it goes and what it says."""

    platform: Platform
    layer: Layer | None
    theme: str | None
    subject: str
    body: str


def _official_platform(session: Session, actor: Actor, platform_slug: str) -> Platform:
    if not actor.is_authenticated:
        raise Unauthorized("Log in as an official of the platform to send updates to its followers.")
    platform = get_platform(session, platform_slug)
    if not is_official(actor, platform.id):
        raise Forbidden(f"Only officials and admins of {platform.slug!r} send updates to its followers.")
    return platform


def _words(body: Mapping, key: str, limit: int, *, one_line: bool) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"Write a {key} (text, at most {limit} characters).", code="invalid_announcement",
                         details={"field": key})
    value = value.strip().replace("\r\n", "\n")
    if len(value) > limit:
        raise BadRequest(f"The {key} is {len(value)} characters long; keep it to {limit}.",
                         code="invalid_announcement", details={"field": key})
    if one_line and len(value.splitlines()) > 1:  # \r, \n, \u2028 …: a mail subject is one line
        raise ValidationFailed(f"The {key} must be one line: remove the line breaks.", code="invalid_announcement",
                               details={"field": key})
    return value


def check_draft(session: Session, actor: Actor, platform_slug: str, body: Any) -> Draft:
    """Check an official's announcement ({layer?|theme?, subject, body}) and who may send it."""
    platform = _official_platform(session, actor, platform_slug)
    if not isinstance(body, Mapping):
        raise BadRequest('Send a JSON object like {"theme": "vergroenen", "subject": "…", "body": "…"}.',
                         code="invalid_announcement")
    unknown = sorted(set(body) - set(KEYS))
    if unknown:
        raise BadRequest(f"Unknown key(s): {', '.join(unknown)}; use {', '.join(KEYS)}.", code="invalid_announcement")
    layer_slug, theme = body.get("layer") or None, body.get("theme") or None
    if layer_slug is not None and theme is not None:
        raise BadRequest("Address the followers of a layer or of a theme, not both (neither: the whole platform).",
                         code="invalid_announcement")
    layer = None
    if layer_slug is not None:
        if not isinstance(layer_slug, str):
            raise BadRequest("layer is a layer's slug.", code="invalid_announcement")
        _platform, layer = get_layer(session, platform.slug, layer_slug)
    if theme is not None and (not isinstance(theme, str) or theme not in platform_themes(platform)):
        known = ", ".join(platform_themes(platform)) or "none"
        raise BadRequest(f"Platform {platform.slug!r} has no theme {str(theme)[:64]!r}; its themes: {known}.",
                         code="unknown_theme")
    return Draft(platform, layer, theme, _words(body, "subject", SUBJECT_MAX, one_line=True),
                 _words(body, "body", BODY_MAX, one_line=False))


def _audience(session: Session, draft: Draft) -> list[tuple[User, int]]:
    """The people who receive it, each with the follow that brings it: followers of the layer or theme
    (a layer's themes and a theme's layers count too) and of the whole platform; no target: every follower."""
    platform = draft.platform
    if draft.layer is not None:
        rows = store.audience(session, platform.id, layer_ids=[draft.layer.id], themes=draft.layer.themes or [])
    elif draft.theme is not None:
        layer_ids = [layer.id for layer in platform.layers if draft.theme in (layer.themes or [])]
        rows = store.audience(session, platform.id, layer_ids=layer_ids, themes=[draft.theme])
    else:
        rows = store.audience(session, platform.id, everyone=True)
    follow_of = dict(rows)
    return [(user, follow_of[user.id]) for user in store.mailable_users(session, follow_of)]


def _target_label(draft: Draft, language: str) -> str:
    name = localised(draft.platform, "name", language)
    if draft.layer is not None:
        return mail_text("scope.layer", language, layer=localised(draft.layer, "title", language), platform=name)
    if draft.theme is not None:
        return mail_text("scope.theme", language, theme=theme_name(draft.theme, language), platform=name)
    return mail_text("scope.platform", language, platform=name)


def _content(session: Session, draft: Draft, language: str) -> tuple[str, list[Paragraph]]:
    links = links_for(session)
    name = localised(draft.platform, "name", language)
    if draft.layer is not None:
        page = links.map_url(draft.platform.slug, draft.layer.slug)
    else:
        page = links.url(f"/p/{quote(draft.platform.slug)}")
    subject = mail_text("announcement.subject", language, platform=name, subject=draft.subject)
    return subject, [(mail_text("announcement.from", language, platform=name), None), (draft.body, None),
                     (mail_text("link.map", language), page)]


def preview(session: Session, actor: Actor, platform_slug: str, body: Any, *, language: str = "nl") -> dict[str, Any]:
    """Show an announcement as it will be mailed, and to how many people, without sending anything."""
    draft = check_draft(session, actor, platform_slug, body)
    audience = _audience(session, draft)
    subject, paragraphs = _content(session, draft, language)
    return {
        "audience": _target_label(draft, language),
        "layer": draft.layer.slug if draft.layer else None, "theme": draft.theme,
        "subject": subject,
        "body_text": "\n\n".join(f"{words} {url}" if url else words for words, url in paragraphs),
        "recipient_count": len(audience),
        "recipients_by_language": dict(Counter(language_of(user.locale) for user, _f in audience)),
    }


def send(session: Session, actor: Actor, platform_slug: str, body: Any, *, now: datetime) -> dict[str, Any]:
    """Store an announcement and queue one mail per follower, in their language; return how many."""
    draft = check_draft(session, actor, platform_slug, body)
    announcement = Announcement(platform_id=draft.platform.id, layer_id=draft.layer.id if draft.layer else None,
                                theme=draft.theme, subject=draft.subject, body=draft.body,
                                author_id=actor.user_id, created_at=now)
    session.add(announcement)
    session.flush()
    queued = 0
    for user, follow_id in _audience(session, draft):
        language = language_of(user.locale)
        subject, paragraphs = _content(session, draft, language)
        why = mail_text("why.follow", language, scope=describe(session, session.get(Follow, follow_id), language))
        if send_update(session, user, subject=subject, paragraphs=paragraphs, why=why, scope=FOLLOW,
                       follow_id=follow_id, dedupe_key=f"announcement:{announcement.id}:{user.id}", now=now):
            queued += 1
    announcement.sent_at, announcement.recipient_count = now, queued
    session.flush()
    return {"id": announcement.id, "recipient_count": queued, "sent_at": now.isoformat()}

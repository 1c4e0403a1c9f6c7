"""Events other capabilities react to (e-mail to authors and followers): one function per event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mapsvc.layers.status import REALISED, REJECTED, SELECTED
from mapsvc.services.following import describe
from mapsvc.services.following_mail import FOLLOW, OWN, Paragraph, links_for, send_update
from mapsvc.services.following_text import language_of, localised, mail_text
from mapsvc.storage import following as store
from mapsvc.storage.models import Feature, Follow, Layer, Platform, User

# The decisions residents hear about; "under review" is a step inside the town hall (the digest shows it).
NOTIFIED = (SELECTED, REJECTED, REALISED)


def _title(feature: Feature, language: str) -> str:
    properties = feature.properties or {}
    title = " ".join(str(properties.get("title") or properties.get("name") or "").split())  # one line, trimmed
    return title or mail_text("untitled", language)


def status_changed(session: Session, feature: Feature, old_status: str | None, *, now: datetime) -> int:
    """React to an official changing a pin's status (in the same transaction): queue the mails.

    The author hears about their own pin (unless they switched that off), and so does everyone who follows
    the pin or its layer, each once per new status, in their own language. Returns how many were queued.
    """
    new_status = feature.status
    if new_status == old_status or new_status not in NOTIFIED:
        return 0
    layer = session.get(Layer, feature.layer_id)
    platform = session.get(Platform, layer.platform_id)
    recipients: dict[int, int | None] = {}  # user id -> the follow that brought them (None: the author)
    if feature.visibility == "visible" and layer.is_public:  # followers never hear of a pin they cannot see
        recipients.update(store.followers_of_feature(session, feature))
    author = session.get(User, feature.author_id) if feature.author_id is not None else None
    if author is not None and author.own_pin_updates:
        recipients[author.id] = None  # the author's own mail says "your suggestion", also when following it
    users = store.mailable_users(session, recipients)
    if not users:
        return 0
    links = links_for(session)
    queued = 0
    for user in users:
        language = language_of(user.locale)
        values = {"platform": localised(platform, "name", language), "title": _title(feature, language),
                  "layer": localised(layer, "title", language),
                  "status": mail_text(f"status.{new_status}", language)}
        follow_id = recipients[user.id]
        role = "author" if follow_id is None else "follower"
        paragraphs: list[Paragraph] = [(mail_text(f"status.body_{role}", language, **values), None)]
        if feature.official_answer:
            paragraphs.append((mail_text("status.answer", language) + "\n" + feature.official_answer, None))
        paragraphs.append((mail_text("link.map", language), links.map_url(platform.slug, layer.slug)))
        if follow_id is None:
            why, scope = mail_text("why.author", language), OWN
        else:
            why = mail_text("why.follow", language, scope=describe(session, session.get(Follow, follow_id), language))
            scope = FOLLOW
        if send_update(session, user, subject=mail_text(f"status.subject_{role}", language, **values),
                       paragraphs=paragraphs, why=why, scope=scope, follow_id=follow_id,
                       dedupe_key=f"status:{feature.id}:{new_status}:{user.id}", now=now):
            queued += 1
    return queued

"""The optional weekly digest: one mail per opted-in resident with what changed in what they follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mapsvc.services.following_mail import DIGEST, Paragraph, links_for, send_update
from mapsvc.services.following_text import language_of, localised, mail_text
from mapsvc.storage import following as store
from mapsvc.storage.models import Feature, Layer, Platform, User

BRUSSELS = ZoneInfo("Europe/Brussels")
# A first digest looks back one week (nothing was sent before).
FIRST_PERIOD = timedelta(days=7)


@dataclass
class DigestResult:
    """What the digest held for one person, and whether it was queued."""

    user_id: int
    new: int
    changed: int
    queued: bool


def week_of(moment: datetime) -> str:
    """Name the Belgian ISO week of a moment, e.g. 2026-W49 (one digest per person and week)."""
    year, week, _day = moment.astimezone(BRUSSELS).isocalendar()
    return f"{year}-W{week:02d}"


def _line(session: Session, feature: Feature, layer: Layer, language: str, *, status: bool) -> Paragraph:
    platform = session.get(Platform, layer.platform_id)
    properties = feature.properties or {}
    values = {"title": str(properties.get("title") or properties.get("name") or mail_text("untitled", language)),
              "layer": localised(layer, "title", language), "platform": localised(platform, "name", language)}
    if status and feature.status:
        words = mail_text("digest.item_status", language, status=mail_text(f"status.{feature.status}", language),
                          **values)
    else:
        words = mail_text("digest.item", language, **values)
    return "– " + words, links_for(session).map_url(platform.slug, layer.slug)


def send_digests(session: Session, *, now: datetime, dry_run: bool = False) -> list[DigestResult]:
    """Queue this week's digest for every opted-in person with an address and news; dry-run writes nothing."""
    users = session.scalars(select(User).where(User.weekly_digest.is_(True), User.is_active.is_(True),
                                               User.email.is_not(None)).order_by(User.id))
    results = []
    for user in list(users):
        since = user.digest_sent_at or now - FIRST_PERIOD
        new, changed = store.digest_items(session, user.id, since, now)
        if not new and not changed:
            results.append(DigestResult(user.id, 0, 0, False))
            continue
        if dry_run:
            results.append(DigestResult(user.id, len(new), len(changed), False))
            continue
        language = language_of(user.locale)
        paragraphs: list[Paragraph] = [
            (mail_text("digest.intro", language, since=since.astimezone(BRUSSELS).strftime("%d/%m/%Y")), None)]
        for heading, items, status in (("digest.new", new, False), ("digest.changed", changed, True)):
            if items:
                paragraphs.append((mail_text(heading, language), None))
                paragraphs += [_line(session, feature, layer, language, status=status) for feature, layer in items]
        queued = send_update(
            session, user, subject=mail_text("digest.subject", language, n=len(new) + len(changed)),
            paragraphs=paragraphs, why=mail_text("why.digest", language), scope=DIGEST,
            dedupe_key=f"digest:{user.id}:{week_of(now)}", now=now)
        if queued:  # a second run in the same week sends nothing and leaves the period open for next week
            user.digest_sent_at = now
        results.append(DigestResult(user.id, len(new), len(changed), queued))
    session.flush()
    return results

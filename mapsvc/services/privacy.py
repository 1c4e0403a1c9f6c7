"""A person's own data: see it all, take it along as JSON, change language and name, delete the account.

Also the retention of votes: some time after a layer closes, the link between votes and voters is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import mapping
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from mapsvc.errors import BadRequest, Forbidden, Unauthorized
from mapsvc.services.permissions import Actor
from mapsvc.storage import privacy as store
from mapsvc.storage.models import Platform, User

LOCALES = ("nl", "fr", "en")
PIN_POLICIES = ("anonymise", "remove")
VOTE_POLICIES = ("keep", "remove")
MAX_RETENTION_DAYS = 3650
MAX_DISPLAY_NAME = 80
# What an account without a password types to confirm its deletion; any of the three is accepted.
CONFIRM_WORDS = {"nl": "VERWIJDER", "fr": "SUPPRIMER", "en": "DELETE"}
EXPORT_FORMAT = "mapsvc-personal-data"


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _user(session: Session, actor: Actor) -> User:
    if not actor.is_authenticated:
        raise Unauthorized("Log in first: this is about your own account.")
    user = session.get(User, actor.user_id)
    if user is None:
        raise Unauthorized("This account no longer exists.", code="unknown_account")
    return user


def account_of(session: Session, actor: Actor) -> User:
    """Return the logged-in person's account (401 for anyone else)."""
    return _user(session, actor)


def my_data(session: Session, actor: Actor, now: datetime) -> dict[str, Any]:
    """Collect everything stored about the logged-in person, as JSON-ready data (never token or login hashes)."""
    user = _user(session, actor)
    uid = user.id
    return {
        "format": EXPORT_FORMAT, "version": 1, "exported_at": _stamp(now),
        "account": {
            "id": uid, "email": user.email, "display_name": user.display_name, "locale": user.locale,
            "created_at": _stamp(user.created_at), "has_password": user.password_hash is not None,
            "weekly_digest": user.weekly_digest, "digest_sent_at": _stamp(user.digest_sent_at),
            "own_pin_updates": user.own_pin_updates,
            "roles": [{"role": role, "platform": platform, "layer": layer}
                      for role, platform, layer in store.grants_of(session, uid)],
            # The issuer and dates only: the subject is stored as a keyed hash, which tells the person nothing
            # and would only matter to someone holding the key.
            "oidc_identities": [{"issuer": i.issuer, "linked_since": _stamp(i.created_at),
                                 "last_login_at": _stamp(i.last_login_at)} for i in store.identities_of(session, uid)],
        },
        "pins": [{"id": f.id, "platform": platform, "layer": layer, "geometry": mapping(shape),
                  "properties": f.properties, "theme": f.theme, "status": f.status,
                  "official_answer": f.official_answer, "visibility": f.visibility,
                  "moderation_reason": f.moderation_reason,  # why it was hidden; never who did it
                  "created_at": _stamp(f.created_at), "updated_at": _stamp(f.updated_at)}
                 for f, shape, platform, layer in store.pins_of(session, uid)],
        "votes": [{"feature_id": v.feature_id, "platform": platform, "layer": layer, "created_at": _stamp(v.created_at)}
                  for v, platform, layer in store.votes_of(session, uid)],
        "follows": [{"platform": platform, "layer": layer, "feature_id": f.feature_id, "theme": f.theme,
                     "created_at": _stamp(f.created_at)} for f, platform, layer in store.follows_of(session, uid)],
        "flags": [{"feature_id": f.feature_id, "reason": f.reason, "created_at": _stamp(f.created_at),
                   "resolved_at": _stamp(f.resolved_at)} for f in store.flags_of(session, uid)],
        "mail": [{"subject": m.subject, "state": m.state, "created_at": _stamp(m.created_at),
                  "sent_at": _stamp(m.sent_at)} for m in store.mail_to(session, uid)],
        "api_tokens": [{"name": t.name, "created_at": _stamp(t.created_at), "revoked_at": _stamp(t.revoked_at)}
                       for t in store.tokens_of(session, uid)],
        # What the person wrote or did as staff: their own part only, never who wrote the pins they moderated.
        "news_items": [{"id": n.id, "platform": platform, "layer": layer, "published_on": n.published_on.isoformat(),
                        "title": {"nl": n.title_nl, "fr": n.title_fr, "en": n.title_en},
                        "body": {"nl": n.body_nl, "fr": n.body_fr, "en": n.body_en}, "link_url": n.link_url,
                        "created_at": _stamp(n.created_at)} for n, platform, layer in store.news_by(session, uid)],
        "announcements": [{"id": a.id, "platform": platform, "layer": layer, "theme": a.theme, "subject": a.subject,
                           "body": a.body, "created_at": _stamp(a.created_at), "sent_at": _stamp(a.sent_at),
                           "recipient_count": a.recipient_count}
                          for a, platform, layer in store.announcements_by(session, uid)],
        "moderation_actions": [{"feature_id": e.feature_id, "platform": platform, "layer": layer, "action": e.action,
                                "reason": e.reason, "created_at": _stamp(e.created_at)}
                               for e, platform, layer in store.moderation_by(session, uid)],
        "moderated_pins": [{"feature_id": fid, "platform": platform, "layer": layer, "visibility": visibility,
                            "moderation_reason": reason, "moderated_at": _stamp(moment)}
                           for fid, visibility, moment, reason, platform, layer in store.moderated_by(session, uid)],
    }


@dataclass(frozen=True)
class Consequence:
    """What deleting the account does on one platform: how many pins and votes, and the platform's policy."""

    platform: Platform
    pins: int
    votes: int
    pins_policy: str     # anonymise | remove
    votes_policy: str    # keep | remove


def deletion_consequences(session: Session, actor: Actor) -> list[Consequence]:
    """List, per platform with the person's pins or votes, what deleting the account would do to them."""
    user = _user(session, actor)
    return [Consequence(platform, pins, votes, platform.deleted_account_pins, platform.deleted_account_votes)
            for platform, pins, votes in store.contributions_by_platform(session, user.id)]


def delete_account(session: Session, actor: Actor, *, password: str | None = None, confirm: str | None = None,
                   by_token: bool = False) -> dict[str, int]:
    """Delete the logged-in person's account and personal data, pins and votes per each platform's policy.

    Only a browser session may do it (not an API token: a token leaked from a script must not be able to
    destroy an account), with the password of a local account, or the typed confirmation word for an
    account that logs in elsewhere (OpenID Connect) and has no password here.
    """
    user = _user(session, actor)
    for name, value in (("password", password), ("confirm", confirm)):
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{name} is text: send {{\"password\": \"…\"}} (or {{\"confirm\": \"DELETE\"}} for an "
                             "account without a password) as a JSON object.", code="invalid_json",
                             details={"field": name})
    if by_token:
        raise Forbidden("An account is deleted from a logged-in browser session (the account page), "
                        "not with an API token.", code="session_required")
    if user.password_hash:
        if not password:
            raise BadRequest("Send your password to confirm the deletion.", code="password_required")
        if not check_password_hash(user.password_hash, password):
            raise Forbidden("That password is not right; the account was not deleted.", code="wrong_password")
    elif (confirm or "").strip().upper() not in CONFIRM_WORDS.values():
        raise BadRequest(f"Type {CONFIRM_WORDS['en']} (or {CONFIRM_WORDS['nl']}, {CONFIRM_WORDS['fr']}) "
                         "as confirm to delete the account.", code="confirmation_required")
    consequences = store.contributions_by_platform(session, user.id)
    return store.erase_user(
        session, user.id,
        remove_pins_on={p.id for p, _pins, _votes in consequences if p.deleted_account_pins == "remove"},
        remove_votes_on={p.id for p, _pins, _votes in consequences if p.deleted_account_votes == "remove"})


def update_profile(session: Session, actor: Actor, body: Mapping[str, Any]) -> dict[str, Any]:
    """Change the person's language (nl, fr, en) and the name shown beside their pins (empty: none)."""
    user = _user(session, actor)
    if not isinstance(body, Mapping):
        raise BadRequest("Send a JSON object with locale and/or display_name.", code="invalid_json")
    unknown = sorted(set(body) - {"locale", "display_name"})
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(map(str, unknown))[:200]}; allowed: locale, display_name.",
                         code="unknown_setting")
    if "locale" in body:
        if body["locale"] not in LOCALES:
            raise BadRequest("locale is nl, fr or en.", code="invalid_locale")
        user.locale = body["locale"]
    if "display_name" in body:
        name = body["display_name"]
        if name is not None and not isinstance(name, str):
            raise BadRequest("display_name is text, or null for none.", code="invalid_display_name")
        name = " ".join(name.split()) if name else ""
        if len(name) > MAX_DISPLAY_NAME:
            raise BadRequest(f"A display name has at most {MAX_DISPLAY_NAME} characters.",
                             code="invalid_display_name")
        user.display_name = name or None
    session.flush()
    return {"locale": user.locale, "display_name": user.display_name}


def check_policy(name: str, value: Any) -> str:
    """Check a platform's deleted-account policy value (deleted_account_pins or deleted_account_votes)."""
    allowed = PIN_POLICIES if name == "deleted_account_pins" else VOTE_POLICIES
    if value not in allowed:
        raise BadRequest(f"{name} is {' or '.join(repr(a) for a in allowed)}.", code="invalid_setting")
    return value


def check_retention_days(value: Any) -> int | None:
    """Check a layer's vote_retention_days: null (keep the link) or 0 to 3650 days after closing."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or not 0 <= value <= MAX_RETENTION_DAYS):
        raise BadRequest(f"vote_retention_days is a whole number of days from 0 to {MAX_RETENTION_DAYS} after the "
                         "layer closes, or null to keep who voted.", code="invalid_setting")
    return value


@dataclass(frozen=True)
class RetentionStep:
    """One layer with a retention period: when its voter links go, and how many went (or would go) now."""

    platform: str
    layer: str
    retention_days: int
    due_at: datetime
    due: bool
    votes_unlinked: int     # with dry_run: how many would be unlinked


def apply_retention(session: Session, now: datetime, *, dry_run: bool = False) -> list[RetentionStep]:
    """Drop the voter link of votes on layers closed longer than their retention period; say what was done."""
    steps = []
    for layer, platform in store.retention_layers(session):
        due_at = layer.closes_at + timedelta(days=layer.vote_retention_days)
        due = due_at <= now
        count = 0
        if due:
            count = store.linked_votes(session, layer.id) if dry_run else store.unlink_votes(session, layer, now)
        steps.append(RetentionStep(platform, layer.slug, layer.vote_retention_days, due_at, due, count))
    return steps

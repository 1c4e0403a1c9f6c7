"""Update e-mails to one person: absolute links, signed unsubscribe links, and the mail put in the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker

from mapsvc.errors import BadRequest, ConfigurationError
from mapsvc.services.following_text import language_of, mail_text
from mapsvc.services.mail import queue_mail
from mapsvc.storage.models import User

# What an unsubscribe link stops: one follow, mail about one's own pins, the digest, or all of it.
FOLLOW, OWN, DIGEST, ALL = "follow", "own", "digest", "all"
SCOPES = (FOLLOW, OWN, DIGEST, ALL)
# The salt keeps these signatures apart from every other use of SECRET_KEY (session cookies, CSRF).
UNSUBSCRIBE_SALT = "mapsvc.unsubscribe"
# Long enough for an old mail in an archive; afterwards the preferences page still works.
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600
PREFERENCES_PATH = "/account/updates"
_SESSION_KEY = "mapsvc.mail_links"

Paragraph = tuple[str, str | None]  # a text, and a link shown after it


@dataclass(frozen=True)
class MailLinks:
    """What mails need to build links outside a request: the public address and the signing key."""

    public_url: str
    secret_key: str

    def url(self, path: str) -> str:
        """Return the absolute URL of a path of this service."""
        return self.public_url.rstrip("/") + path

    def map_url(self, platform_slug: str, layer_slug: str) -> str:
        """Return the absolute URL of a layer's map page."""
        return self.url(f"/p/{quote(platform_slug)}/{quote(layer_slug)}")

    def unsubscribe_url(self, user: User, scope: str, follow_id: int | None = None, *,
                        language: str = "nl") -> str:
        """Return a signed one-click unsubscribe link (no login needed) for this account."""
        token = make_token(self.secret_key, user.id, scope, follow_id, created_at=user.created_at)
        return self.url(f"/unsubscribe/{token}?lang={language_of(language)}")


def configure_links(sessions: sessionmaker, links: MailLinks) -> None:
    """Hand the mail links to every session of a database, so services can build mails without Flask."""
    sessions.kw.setdefault("info", {})[_SESSION_KEY] = links


def links_for(session: Session) -> MailLinks:
    """Return the mail links of the app that opened this session."""
    links = session.info.get(_SESSION_KEY)
    if links is None:
        raise ConfigurationError("Mail links are not configured: the session was not opened by a mapsvc app.")
    return links


def account_stamp(created_at: datetime) -> str:
    """Return an account's creation time as the tokens carry it (UTC, ISO 8601)."""
    return created_at.astimezone(timezone.utc).isoformat()


def make_token(secret_key: str, user_id: int, scope: str, follow_id: int | None = None, *,
               created_at: datetime) -> str:
    """Sign an unsubscribe order: whose (id and account creation time), what scope, which follow."""
    if scope not in SCOPES:
        raise ValueError(f"unknown unsubscribe scope {scope!r}")
    # SQLite may give a deleted account's id to a new one: the creation time tells the two apart.
    payload = {"u": user_id, "c": account_stamp(created_at), "s": scope}
    if follow_id is not None:
        payload["f"] = follow_id
    return URLSafeTimedSerializer(secret_key, salt=UNSUBSCRIBE_SALT).dumps(payload)


def read_token(secret_key: str, token: str) -> dict:
    """Check an unsubscribe token's signature and age; return its payload or raise a 400."""
    serializer = URLSafeTimedSerializer(secret_key, salt=UNSUBSCRIBE_SALT)
    try:
        payload = serializer.loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except SignatureExpired:
        raise BadRequest("This unsubscribe link has expired. Log in and change your e-mail preferences at "
                         f"{PREFERENCES_PATH}.", code="unsubscribe_link_expired") from None
    except BadSignature:
        raise BadRequest("This unsubscribe link is not valid (it may have been cut off or changed). Copy the "
                         f"whole link from the e-mail, or change your preferences at {PREFERENCES_PATH}.",
                         code="invalid_unsubscribe_link") from None
    if (not isinstance(payload, dict) or not isinstance(payload.get("u"), int) or not isinstance(payload.get("c"), str)
            or payload.get("s") not in SCOPES or (payload["s"] == FOLLOW and not isinstance(payload.get("f"), int))):
        raise BadRequest("This unsubscribe link is not valid.", code="invalid_unsubscribe_link")
    return payload


def _bodies(paragraphs: list[Paragraph]) -> tuple[str, str]:
    text = "\n\n".join(f"{words} {url}" if url else words for words, url in paragraphs)
    html = "\n".join(
        "<p>" + escape(words).replace("\n", "<br>\n")
        + (f' <a href="{escape(url)}">{escape(url)}</a>' if url else "") + "</p>"
        for words, url in paragraphs)
    return text + "\n", f'<!doctype html>\n<html><body style="font-family: sans-serif">\n{html}\n</body></html>\n'


def send_update(session: Session, user: User, *, subject: str, paragraphs: list[Paragraph], why: str,
                scope: str, follow_id: int | None = None, dedupe_key: str, now: datetime) -> bool:
    """Queue one update to a person in their language, with why they get it and how to stop it.

    Returns False when it was not queued: no e-mail address (OIDC-only accounts), or already sent
    for this dedupe key.
    """
    if not user.email or not user.is_active:
        return False
    links = links_for(session)
    language = language_of(user.locale)
    unsubscribe = links.unsubscribe_url(user, scope, follow_id, language=language)
    footer: list[Paragraph] = [
        ("—\n" + why, None),
        (mail_text({FOLLOW: "unsubscribe.follow", OWN: "unsubscribe.own", DIGEST: "unsubscribe.digest"}
                   .get(scope, "unsubscribe.follow"), language), unsubscribe),
        (mail_text("preferences", language), links.url(PREFERENCES_PATH)),
    ]
    text, html = _bodies(paragraphs + footer)
    # Subjects carry residents' text (a pin's title may hold line breaks): one line, whatever they typed.
    subject = " ".join(subject.split())[:300]
    queued = queue_mail(session, to_address=user.email, subject=subject, body_text=text, body_html=html,
                        user_id=user.id, unsubscribe_url=unsubscribe, dedupe_key=dedupe_key[:200], now=now)
    return queued is not None

"""Outgoing e-mail: queue a mail in the caller's transaction; list, retry and forget queued mail.

Sending happens later, in a worker (mapsvc/services/mail_worker.py), so a slow mail server never
blocks a request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.headerregistry import Address
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, NotFound
from mapsvc.storage import mail as store
from mapsvc.storage.models import OutgoingMail

STATES = ("queued", "sending", "sent", "failed")
# The right-hand side of every Message-ID: it only has to make the id globally unique (with the uuid),
# and the id is fixed at queue time so every retry carries the same one (receivers can dedupe).
MESSAGE_ID_DOMAIN = "mapsvc.mail"


def _check_address(to_address: str) -> str:
    address = (to_address or "").strip()
    try:
        parsed = Address(addr_spec=address)
    except Exception:  # the header parser raises several kinds of errors on bad input
        parsed = None
    if parsed is None or not parsed.username or "." not in parsed.domain or len(address) > 320:
        raise BadRequest(f"{address[:80]!r} is not an e-mail address one can write to, like name@example.be.",
                         code="invalid_email")
    return address


class MailInputError(BadRequest, ValueError):
    """Text that cannot go into a mail's headers: a 400 when it reaches the web (a ValueError to plain callers)."""

    code = "invalid_mail_header"


def _one_line(value: str, what: str, limit: int) -> str:
    # splitlines() also breaks on \u2028, \x85, \x0b …: none of those belongs in a header either.
    if "\r" in value or "\n" in value or len(value.splitlines()) > 1:
        raise MailInputError(f"the {what} of a mail must be one line")
    if len(value) > limit:
        raise MailInputError(f"the {what} of a mail is longer than {limit} characters")
    return value


def unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    """Return the RFC 8058 one-click unsubscribe headers for this URL."""
    parts = urlsplit(_one_line(unsubscribe_url, "unsubscribe URL", 2000))
    if parts.scheme not in ("https", "http") or not parts.hostname or "<" in unsubscribe_url or ">" in unsubscribe_url:
        raise MailInputError(f"the unsubscribe URL must be an absolute http(s) URL, got {unsubscribe_url[:80]!r}")
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def queue_mail(session: Session, *, to_address: str, subject: str, body_text: str, body_html: str | None = None,
               user_id: int | None = None, unsubscribe_url: str | None = None, dedupe_key: str | None = None,
               now: datetime) -> OutgoingMail | None:
    """Queue one e-mail in the caller's transaction; None when dedupe_key was queued before (never mailed twice)."""
    headers = unsubscribe_headers(unsubscribe_url) if unsubscribe_url else {}
    if dedupe_key is not None:
        _one_line(dedupe_key, "dedupe key", 200)
    mail = OutgoingMail(
        user_id=user_id,
        to_address=_check_address(to_address),
        subject=_one_line(subject, "subject", 300),
        body_text=body_text,
        body_html=body_html,
        headers=headers,
        message_id=f"<{uuid.uuid4().hex}@{MESSAGE_ID_DOMAIN}>",
        dedupe_key=dedupe_key,
        state="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    return store.insert_mail(session, mail)


def list_mails(session: Session, *, state: str | None = None, limit: int = 100) -> list[OutgoingMail]:
    """Return the newest mails, optionally only those in one state."""
    if state is not None and state not in STATES:
        raise BadRequest(f"Unknown mail state {state!r}; use one of {', '.join(STATES)}.", code="invalid_state")
    return store.list_mails(session, state=state, limit=limit)


def retry_mail(session: Session, mail_id: int, *, now: datetime) -> OutgoingMail:
    """Put a failed mail back in the queue, due now, with a fresh count of attempts."""
    mail = store.get_mail(session, mail_id, for_update=True)
    if mail is None:
        raise NotFound(f"There is no mail {mail_id}; `mapsvc mail list --state failed` shows the failed ones.",
                       code="mail_not_found")
    if mail.state != "failed":
        raise BadRequest(f"Mail {mail_id} is {mail.state}; only a failed mail can be retried.", code="mail_not_failed")
    if not mail.to_address:
        raise BadRequest(f"Mail {mail_id} has no address any more (its account was deleted).", code="mail_no_address")
    mail.state = "queued"
    mail.attempts = 0
    mail.next_attempt_at = now
    mail.claimed_until = None
    session.flush()
    return mail


def forget_user_mail(session: Session, user_id: int) -> int:
    """Delete a user's mail that has not gone out (queued, sending, failed), blank the address on the rest.

    Call it before deleting the account (user_id is still set then); return how many mails were deleted.
    """
    deleted = store.delete_unsent_of_user(session, user_id)
    store.wipe_addresses_of_user(session, user_id)
    return deleted

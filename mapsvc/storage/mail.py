"""Queries and writes on the outgoing mail queue: insert once, claim with a lease, record the outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mapsvc.storage.models import OutgoingMail


def find_by_dedupe_key(session: Session, dedupe_key: str) -> OutgoingMail | None:
    """Return the mail queued under this dedupe key, or None."""
    return session.scalar(select(OutgoingMail).where(OutgoingMail.dedupe_key == dedupe_key))


def insert_mail(session: Session, mail: OutgoingMail) -> OutgoingMail | None:
    """Insert `mail` in a savepoint; None when its dedupe key is already taken (the caller's work survives)."""
    if mail.dedupe_key is not None and find_by_dedupe_key(session, mail.dedupe_key) is not None:
        return None
    try:
        # A savepoint: losing a race on the unique dedupe key rolls back this insert only, not the
        # caller's transaction (PostgreSQL would otherwise refuse every later statement).
        with session.begin_nested():
            session.add(mail)
            session.flush()
    except IntegrityError:
        if mail.dedupe_key is not None and find_by_dedupe_key(session, mail.dedupe_key) is not None:
            return None
        raise
    return mail


def claim_next(session: Session, *, now: datetime, lease_until: datetime) -> OutgoingMail | None:
    """Lease the oldest due mail (queued and due, or sending with an expired lease) to this worker, or None."""
    due = or_(
        and_(OutgoingMail.state == "queued", OutgoingMail.next_attempt_at <= now),
        # A worker that died while sending: its lease ran out, so the mail is due again.
        and_(OutgoingMail.state == "sending", OutgoingMail.claimed_until < now),
    )
    statement = select(OutgoingMail).where(due).order_by(OutgoingMail.next_attempt_at, OutgoingMail.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent workers each take a different row instead of waiting for one another.
        statement = statement.with_for_update(skip_locked=True)
    # SQLite: the caller's write transaction began IMMEDIATE, so only one worker claims at a time.
    mail = session.scalar(statement)
    if mail is None:
        return None
    mail.state = "sending"
    mail.claimed_until = lease_until
    mail.attempts += 1  # counted at the claim, so a mail that kills its worker still runs out of attempts
    session.flush()
    return mail


def _fenced(session: Session, mail_id: int, attempt: int, **values) -> bool:
    """Update a mail only while it is still this worker's claim (same attempt number, still sending)."""
    result = session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.state == "sending", OutgoingMail.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_sent(session: Session, mail_id: int, attempt: int, *, now: datetime) -> bool:
    """Record that the server accepted the mail; False when the claim was lost meanwhile."""
    return _fenced(session, mail_id, attempt, state="sent", sent_at=now, claimed_until=None, last_error=None)


def mark_retry(session: Session, mail_id: int, attempt: int, *, next_attempt_at: datetime, error: str) -> bool:
    """Put the mail back in the queue for a later attempt; False when the claim was lost meanwhile."""
    return _fenced(session, mail_id, attempt, state="queued", next_attempt_at=next_attempt_at,
                   claimed_until=None, last_error=error)


def mark_failed(session: Session, mail_id: int, attempt: int, *, error: str) -> bool:
    """Give the mail up (kept, listed as failed); False when the claim was lost meanwhile."""
    return _fenced(session, mail_id, attempt, state="failed", claimed_until=None, last_error=error)


def list_mails(session: Session, *, state: str | None = None, limit: int = 100) -> list[OutgoingMail]:
    """Return the newest mails, optionally in one state."""
    statement = select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(limit)
    if state is not None:
        statement = statement.where(OutgoingMail.state == state)
    return list(session.scalars(statement))


def get_mail(session: Session, mail_id: int, *, for_update: bool = False) -> OutgoingMail | None:
    """Return one mail by id, or None."""
    statement = select(OutgoingMail).where(OutgoingMail.id == mail_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.scalar(statement)


def delete_unsent_of_user(session: Session, user_id: int) -> int:
    """Delete a user's mails that have not gone out (queued, sending or failed); return how many."""
    result = session.execute(
        delete(OutgoingMail)
        .where(OutgoingMail.user_id == user_id, OutgoingMail.state.in_(("queued", "sending", "failed")))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def wipe_addresses_of_user(session: Session, user_id: int) -> int:
    """Blank the address on a user's mails that went out (the record stays, without whom it went to)."""
    result = session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.user_id == user_id)
        .values(to_address=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount

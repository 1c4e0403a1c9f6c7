"""The mail worker: claim due mails with a lease, send them outside any transaction, record the outcome.

Never lost: a mail leaves the queue only as `sent`, or as `failed` with its last error (listed and
retryable). Never sent twice, within what SMTP allows: a claim is a lease (`claimed_until`); each claim
adds one to `attempts`, and the outcome is written only while that claim still holds (same attempt
number), so a late worker cannot overwrite a newer claim. A worker that dies after claiming but before
the server accepted the mail leaves it `sending`; when the lease runs out another worker sends it. The
one window left: the server accepted the mail and the worker died (or lost the database) before its
short `sent` transaction committed. Then the mail goes out again after the lease, with the same
Message-ID, so receiving systems can recognise the duplicate.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from mapsvc.services.mail_sender import (
    MailSettings,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    backoff,
    build_message,
    describe_backend,
    make_transport,
)
from mapsvc.storage import mail as store
from mapsvc.storage.session import Database

log = logging.getLogger(__name__)

# SMTP replies often quote the recipient ("550 5.1.1 <jan@example.be>: unknown user"); errors are logged and
# stored (last_error, `mail list`), so any address in them is replaced first.
_ADDRESS = re.compile(r"<?[^\s<>()\[\]\\,;:\"'@]+@[^\s<>()\[\]\\,;:\"'@]+>?")


def scrub(error: str) -> str:
    """Replace every e-mail address in an error text by "<address>"."""
    return _ADDRESS.sub("<address>", error)



def utcnow() -> datetime:
    """Return the current time in UTC (the worker's clock; tests pass their own)."""
    return datetime.now(timezone.utc)


@dataclass
class SendReport:
    """What one run of the worker did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    # The mail server could not be reached: the run stopped early, the rest waits for the next run.
    server_down: str | None = None

    @property
    def handled(self) -> int:
        """Return how many mails this run claimed."""
        return self.sent + self.retried + self.failed


def _claim(database: Database, settings: MailSettings, now: datetime, report: SendReport):
    """Claim the next due mail; return (id, attempt, to_address, message), or None when nothing is due."""
    while True:
        with database.transaction() as session:
            mail = store.claim_next(session, now=now, lease_until=now + timedelta(seconds=settings.lease_seconds))
            if mail is None:
                return None
            problem = None
            if mail.attempts > settings.max_attempts:
                # Only a mail whose earlier workers all died mid-send gets here (their leases ran out).
                problem = (f"gave up after {mail.attempts - 1} attempts; the last worker stopped while sending, "
                           "so it may have been delivered: " + (mail.last_error or "no error recorded"))
            elif not mail.to_address:
                problem = "no address (the account was deleted)"
            else:
                try:
                    return mail.id, mail.attempts, mail.to_address, build_message(mail, settings)
                except (ValueError, TypeError) as exc:
                    problem = scrub(f"cannot build the message: {exc}")
            store.mark_failed(session, mail.id, mail.attempts, error=problem)
            report.failed += 1
            log.warning("mail %s failed: %s", mail.id, problem)


def _record(database: Database, write: Callable[..., bool], *args, **kwargs) -> None:
    """Write an outcome in its own short transaction; try a few times, since losing it means a resend."""
    for attempt in range(3):
        try:
            with database.transaction() as session:
                if not write(session, *args, **kwargs):
                    log.warning("mail %s: the claim was lost before its outcome was recorded", args[0])
            return
        except Exception:
            if attempt == 2:
                raise
            log.exception("mail %s: recording the outcome failed; trying again", args[0])
            time.sleep(1 + attempt)


def send_due(database: Database, settings: MailSettings, transport: Transport, *,
             clock: Callable[[], datetime] = utcnow, limit: int | None = None,
             stop: threading.Event | None = None) -> SendReport:
    """Send due mails one by one until none is due, `limit` were handled, the server is down or `stop` is set."""
    report = SendReport()
    while (limit is None or report.handled < limit) and not (stop is not None and stop.is_set()):
        claimed = _claim(database, settings, clock(), report)
        if claimed is None:
            break
        mail_id, attempt, to_address, message = claimed
        try:
            transport.send(message, envelope_from=settings.envelope_from, to_address=to_address)
        except PermanentFailure as exc:
            error = scrub(str(exc))
            _record(database, store.mark_failed, mail_id, attempt, error=error)
            report.failed += 1
            log.warning("mail %s refused for good: %s", mail_id, error)
            continue
        except Exception as exc:  # TemporaryFailure, or anything unforeseen: the mail stays in the queue
            error = scrub(str(exc) if isinstance(exc, TemporaryFailure) else f"{type(exc).__name__}: {exc}")
            if attempt >= settings.max_attempts:
                _record(database, store.mark_failed, mail_id, attempt, error=f"gave up after {attempt} attempts: {error}")
                report.failed += 1
            else:
                due = clock() + timedelta(seconds=backoff(settings, attempt))
                _record(database, store.mark_retry, mail_id, attempt, next_attempt_at=due, error=error)
                report.retried += 1
            log.warning("mail %s not sent (attempt %s): %s", mail_id, attempt, error)
            if getattr(exc, "server_down", False):
                report.server_down = error
                break
            continue
        # Right after the server took it: the shorter this gap, the smaller the chance of a resend.
        _record(database, store.mark_sent, mail_id, attempt, now=clock())
        report.sent += 1
    return report


def run_worker(database: Database, settings: MailSettings, *, batch: int = 100, interval: float = 10.0,
               once: bool = False, stop: threading.Event | None = None, transport: Transport | None = None,
               clock: Callable[[], datetime] = utcnow,
               on_round: Callable[[SendReport], None] | None = None) -> SendReport:
    """Send in rounds of at most `batch` mails, waiting `interval` seconds when the queue is idle, until `stop`.

    With `once`, drain what is due now and return.
    """
    stop = stop or threading.Event()
    transport = transport or make_transport(settings)
    total = SendReport()
    try:
        while not stop.is_set():
            try:
                report = send_due(database, settings, transport, clock=clock, limit=batch, stop=stop)
            except Exception:
                if once:
                    raise
                # The database may be restarting: keep the worker alive and try again later.
                log.exception("mail worker round failed")
                stop.wait(interval)
                continue
            for field in ("sent", "retried", "failed"):
                setattr(total, field, getattr(total, field) + getattr(report, field))
            total.server_down = report.server_down
            if on_round is not None and report.handled:
                on_round(report)
            busy = report.handled >= batch and not report.server_down
            if once and not busy:
                break
            if not busy:
                stop.wait(interval)
    finally:
        transport.close()
    return total


def start_background_worker(database: Database, settings: MailSettings, *,
                            interval: float = 5.0) -> tuple[threading.Thread, threading.Event]:
    """Start the development worker thread (daemon); set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(database, settings),
                              kwargs={"interval": interval, "stop": stop}, name="mapsvc-mail", daemon=True)
    thread.start()
    log.info("mail worker thread started: mail goes to %s", describe_backend(settings))
    return thread, stop

"""Outgoing mail against a real SMTP server (aiosmtpd on 127.0.0.1): exact message, retries, never lost, never twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from mapsvc.services.mail import forget_user_mail, list_mails, queue_mail, retry_mail
from mapsvc.services.mail_sender import SmtpTransport, backoff, mail_settings
from mapsvc.services.mail_worker import send_due
from mapsvc.storage import mail as store
from mapsvc.storage.models import OutgoingMail, User
from mapsvc.storage.session import Database
from tests.support.smtp_server import RecordingHandler, smtp_server

NOW = datetime(2026, 9, 14, 8, 30, tzinfo=timezone.utc)
SUBJECT = "Nieuws over je voorstel: Kerstdorp Kapelle-op-den-Bos, één plek geselecteerd — Noël"


def settings_for(port: int, **extra):
    config = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TLS": "none",
              "MAIL_FROM": "Gemeente Poperinge <participatie@poperinge.example>", "SMTP_TIMEOUT": 5,
              "MAIL_MAX_ATTEMPTS": 4, "MAIL_BACKOFF_SECONDS": 60, "MAIL_FOLDER": None}
    config.update(extra)
    return mail_settings(config)


@pytest.fixture
def server():
    """A running SMTP server that accepts everything; the test may script refusals on `handler.replies`."""
    handler = RecordingHandler()
    with smtp_server(handler) as port:
        yield handler, port


def queue(db, n=1, **kwargs):
    with db.transaction() as session:
        mails = [queue_mail(session, **{"to_address": f"bewoner{i}@example.be", "subject": SUBJECT,
                                        "body_text": f"Hallo {i}, er is nieuws: één voorstel is geselecteerd.",
                                        "now": NOW, **kwargs}) for i in range(n)]
    return [m.id for m in mails]


def drain(db, settings, *, at=NOW, limit=None):
    transport = SmtpTransport(settings)
    try:
        return send_due(db, settings, transport, clock=lambda: at, limit=limit)
    finally:
        transport.close()


def row(db, mail_id) -> OutgoingMail:
    with db.sessions() as session:
        return session.get(OutgoingMail, mail_id)


def test_a_queued_mail_is_delivered_exactly_as_built(db, server):
    handler, port = server
    settings = settings_for(port)
    (mail_id,) = queue(db, body_html="<p>Hallo, er is <b>nieuws</b>: één voorstel.</p>",
                       unsubscribe_url="https://poperinge.example/volgen/uit?t=abc123")
    stored = row(db, mail_id)
    assert handler.messages() == []  # queueing sends nothing: the request never waits for the mail server

    report = drain(db, settings)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (envelope_from, recipients, message), = handler.received
    assert envelope_from == "participatie@poperinge.example" and recipients == ["bewoner0@example.be"]
    assert message["Subject"] == SUBJECT
    assert message["From"] == "Gemeente Poperinge <participatie@poperinge.example>"
    assert message["To"] == "bewoner0@example.be"
    assert message["Message-ID"] == stored.message_id
    assert message["List-Unsubscribe"] == "<https://poperinge.example/volgen/uit?t=abc123>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Date"].datetime == NOW
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Hallo 0, er is nieuws: één voorstel is geselecteerd."
    assert message.get_body(("html",)).get_content().strip() == "<p>Hallo, er is <b>nieuws</b>: één voorstel.</p>"
    sent = row(db, mail_id)
    assert (sent.state, sent.attempts, sent.sent_at, sent.claimed_until) == ("sent", 1, NOW, None)


def test_a_temporary_refusal_is_retried_after_the_backoff_and_delivered_once(db, server):
    handler, port = server
    settings = settings_for(port)
    handler.replies.append("451 4.3.0 try later")
    (mail_id,) = queue(db)

    first = drain(db, settings)
    waiting = row(db, mail_id)
    assert (first.sent, first.retried) == (0, 1)
    assert waiting.state == "queued" and waiting.attempts == 1 and "451" in waiting.last_error
    assert waiting.next_attempt_at == NOW + timedelta(seconds=backoff(settings, 1))

    early = drain(db, settings, at=waiting.next_attempt_at - timedelta(seconds=1))
    assert early.handled == 0 and handler.messages() == []

    later = drain(db, settings, at=waiting.next_attempt_at)
    assert later.sent == 1
    assert len(handler.messages()) == 1 and handler.refused == ["451 4.3.0 try later"]
    assert row(db, mail_id).state == "sent" and row(db, mail_id).attempts == 2
    assert drain(db, settings, at=NOW + timedelta(days=1)).handled == 0
    assert len(handler.messages()) == 1


def test_backoff_doubles_and_is_capped():
    settings = settings_for(25, MAIL_BACKOFF_SECONDS=60)
    assert [backoff(settings, n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(settings, 40) == 6 * 3600


def test_a_permanent_refusal_fails_at_once_is_listed_and_can_be_retried(db, server):
    handler, port = server
    settings = settings_for(port)
    handler.replies.append("550 5.1.1 no such mailbox")
    (mail_id,) = queue(db)

    report = drain(db, settings)
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    assert drain(db, settings, at=NOW + timedelta(days=30)).handled == 0  # no retry of a 5xx
    assert handler.messages() == [] and handler.refused == ["550 5.1.1 no such mailbox"]
    with db.sessions() as session:
        failed = list_mails(session, state="failed")
    assert [m.id for m in failed] == [mail_id] and "550" in failed[0].last_error

    with db.transaction() as session:
        retry_mail(session, mail_id, now=NOW + timedelta(days=1))
    assert drain(db, settings, at=NOW + timedelta(days=1)).sent == 1
    assert len(handler.messages()) == 1


def test_too_many_temporary_failures_end_as_failed_not_dropped(db, server):
    handler, port = server
    settings = settings_for(port, MAIL_MAX_ATTEMPTS=3)
    handler.replies.extend(["451 busy"] * 3)
    (mail_id,) = queue(db)
    at = NOW
    for _ in range(3):
        drain(db, settings, at=at)
        at = at + timedelta(days=1)
    failed = row(db, mail_id)
    assert failed.state == "failed" and failed.attempts == 3 and "gave up after 3 attempts" in failed.last_error
    assert drain(db, settings, at=at + timedelta(days=30)).handled == 0 and handler.messages() == []


def test_an_unreachable_server_keeps_the_mail_queued_and_stops_the_run(db):
    settings = settings_for(_closed_port())
    ids = queue(db, n=3)
    report = drain(db, settings)
    assert report.server_down and report.retried == 1 and report.sent == 0
    states = [row(db, i) for i in ids]
    assert [m.state for m in states] == ["queued"] * 3
    assert [m.attempts for m in states] == [1, 0, 0]  # the other mails were not charged for the outage


def _closed_port() -> int:
    from tests.support.smtp_server import free_port

    return free_port()


def test_a_dedupe_key_is_queued_once(db):
    with db.transaction() as session:
        first = queue_mail(session, to_address="a@example.be", subject="s", body_text="b", dedupe_key="status:7:user:1",
                           now=NOW)
        second = queue_mail(session, to_address="a@example.be", subject="s", body_text="b",
                            dedupe_key="status:7:user:1", now=NOW)
    assert first is not None and second is None
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 1


def _wait_for_lock_wait(db) -> None:
    """Return once some PostgreSQL backend waits for a lock (the second insert, on the first's key)."""
    deadline = time.monotonic() + 30  # a guard against hanging, not a measurement
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                           "AND datname = current_database()")).scalar()
            if waiting:
                return
            watcher.rollback()  # a fresh snapshot of pg_stat_activity on the next look
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the first one's row")


def test_a_concurrent_duplicate_does_not_spoil_the_callers_transaction(db):
    """Two transactions queue the same key at once: one mail, and the loser's other work still commits."""
    postgres = db.engine.dialect.name == "postgresql"
    inserted, reaching, release, results, errors = (threading.Event(), threading.Event(), threading.Event(), {},
                                                     [])

    def first():
        try:
            with db.transaction() as session:
                results["first"] = queue_mail(session, to_address="a@example.be", subject="s", body_text="b",
                                              dedupe_key="race", now=NOW)
                inserted.set()
                # Hold the uncommitted row until the other transaction has reached its own insert.
                assert release.wait(30), "never released"
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            inserted.set()

    def second():
        inserted.wait(30)
        try:
            # SQLite: this transaction waits for the first to commit (one writer at a time), so it says
            # "here I am" before it begins. PostgreSQL: it inserts and then waits on the unique index.
            reaching.set()
            with db.transaction() as session:
                results["second"] = queue_mail(session, to_address="a@example.be", subject="s", body_text="b",
                                               dedupe_key="race", now=NOW)
                results["other"] = queue_mail(session, to_address="b@example.be", subject="other", body_text="b",
                                              dedupe_key="other", now=NOW)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    try:
        assert reaching.wait(30)
        if postgres:
            _wait_for_lock_wait(db)
    finally:
        release.set()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a transaction hung"
    assert errors == []
    assert results["first"] is not None and results["second"] is None and results["other"] is not None
    with db.sessions() as session:
        keys = sorted(session.scalars(select(OutgoingMail.dedupe_key)))
    assert keys == ["other", "race"]


def test_an_expired_lease_is_sent_by_the_next_worker_and_only_once(db, server):
    handler, port = server
    settings = settings_for(port)
    (mail_id,) = queue(db)
    with db.transaction() as session:  # a worker claims the mail and dies before it sends
        store.claim_next(session, now=NOW, lease_until=NOW + timedelta(seconds=settings.lease_seconds))

    assert drain(db, settings).handled == 0  # the lease still holds: nobody else touches it
    after_lease = NOW + timedelta(seconds=settings.lease_seconds + 1)
    assert drain(db, settings, at=after_lease).sent == 1
    assert drain(db, settings, at=after_lease + timedelta(hours=1)).handled == 0  # a restarted worker
    assert len(handler.messages()) == 1
    assert row(db, mail_id).attempts == 2


def test_the_documented_window_resends_with_the_same_message_id(db, server):
    """Accepted by the server, worker died before recording it: sent again after the lease, same Message-ID."""
    handler, port = server
    settings = settings_for(port)
    (mail_id,) = queue(db)
    from mapsvc.services.mail_sender import build_message

    with db.transaction() as session:
        mail = store.claim_next(session, now=NOW, lease_until=NOW + timedelta(seconds=settings.lease_seconds))
        message = build_message(mail, settings)
    transport = SmtpTransport(settings)
    transport.send(message, envelope_from=settings.envelope_from, to_address=mail.to_address)
    transport.close()  # ... and the worker dies here, before mark_sent

    drain(db, settings, at=NOW + timedelta(seconds=settings.lease_seconds + 1))
    first, second = handler.messages()
    assert first["Message-ID"] == second["Message-ID"] == row(db, mail_id).message_id
    assert bytes(first) == bytes(second)  # byte for byte the same message, so receivers can drop the copy


def test_a_late_worker_cannot_overwrite_a_newer_claim(db):
    (mail_id,) = queue(db)
    with db.transaction() as session:
        store.claim_next(session, now=NOW, lease_until=NOW + timedelta(seconds=1))
    later = NOW + timedelta(seconds=5)
    with db.transaction() as session:
        store.claim_next(session, now=later, lease_until=later + timedelta(seconds=300))
    with db.transaction() as session:
        assert store.mark_retry(session, mail_id, 1, next_attempt_at=NOW, error="late") is False
        assert store.mark_sent(session, mail_id, 2, now=later) is True
    assert row(db, mail_id).state == "sent"


def test_two_workers_deliver_each_mail_once(db, database_url, server):
    handler, port = server
    handler.delay = 0.005
    settings = settings_for(port)
    ids = queue(db, n=40)
    reports, errors = [], []
    start = threading.Barrier(2)

    def worker():
        database = Database.connect(database_url)  # its own engine, like a second process
        try:
            start.wait()
            reports.append(drain(database, settings))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a worker hung"
    assert errors == []
    received = [m["Message-ID"] for m in handler.messages()]
    with db.sessions() as session:
        mails = list(session.scalars(select(OutgoingMail).where(OutgoingMail.id.in_(ids))))
    assert sorted(received) == sorted(m.message_id for m in mails)  # each once, none missing
    assert {m.state for m in mails} == {"sent"} and {m.attempts for m in mails} == {1}
    assert sum(r.sent for r in reports) == 40


def test_forgetting_a_user_deletes_only_their_unsent_mail(db, server):
    handler, port = server
    with db.transaction() as session:
        user = User(email="weg@example.be", password_hash="x", locale="nl")
        session.add(user)
        session.flush()
        user_id = user.id
    sent_id, = queue(db, user_id=user_id)
    drain(db, settings_for(port))
    queued_id, = queue(db, user_id=user_id, dedupe_key="later")
    other_id, = queue(db, dedupe_key="someone-else")
    with db.transaction() as session:
        assert forget_user_mail(session, user_id) == 1
    with db.sessions() as session:
        assert session.get(OutgoingMail, queued_id) is None
        assert session.get(OutgoingMail, sent_id).to_address is None  # the record stays, the address goes
        assert session.get(OutgoingMail, other_id).to_address == "bewoner0@example.be"


def _start_worker(database_url: str, smtp_port: int, folder, name: str):
    env = {**os.environ, "MAPSVC_DATABASE_URL": database_url, "MAPSVC_MAIL_BACKEND": "smtp",
           "MAPSVC_SMTP_HOST": "127.0.0.1", "MAPSVC_SMTP_PORT": str(smtp_port), "MAPSVC_SMTP_TLS": "none",
           "MAPSVC_AUTO_MIGRATE": "false"}
    with open(folder / f"{name}.out", "wb") as out, open(folder / f"{name}.err", "wb") as err:
        return subprocess.Popen([str(Path(sys.executable).parent / "mapsvc"), "mail", "send", "--interval", "0.2"],
                                env=env, cwd=folder, stdout=out, stderr=err)


def _until(condition, process) -> None:
    deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
    while not condition() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)


def test_a_killed_worker_process_loses_nothing_and_resends_only_in_the_documented_window(
        db, database_url, make_app, server, tmp_path):
    """A real `mapsvc mail send` process, SIGKILLed mid-run and started again.

    What the README promises: nothing is lost; a mail is sent twice only when the server had accepted it and
    the worker died before recording `sent` (then with the same Message-ID), and only the mail that worker
    held (it claims one at a time).
    """
    handler, port = server
    handler.delay = 0.3  # each DATA takes a while, so the kill lands inside a run
    make_app()  # migrates the database
    now = datetime.now(timezone.utc)  # the child uses the real clock
    with db.transaction() as session:
        ids = [queue_mail(session, to_address=f"bewoner{i}@example.be", subject=f"Nieuws {i}", body_text="b",
                          now=now).id for i in range(5)]

    first = _start_worker(database_url, port, tmp_path, "first")
    try:
        _until(lambda: handler.messages(), first)
        assert handler.messages(), (tmp_path / "first.err").read_text(errors="replace")[-2000:]
    finally:
        first.send_signal(signal.SIGKILL)  # no clean-up at all: the worst a worker can suffer
        first.wait(timeout=30)

    with db.transaction() as session:
        mails = {m.id: m for m in session.scalars(select(OutgoingMail).where(OutgoingMail.id.in_(ids)))}
        held = [m.message_id for m in mails.values() if m.state == "sending"]
        assert len(held) <= 1  # one claim at a time
        for mail in mails.values():  # the lease (at least 60 s) runs out: moved back instead of waited for
            if mail.state == "sending":
                mail.claimed_until = now - timedelta(seconds=1)

    second = _start_worker(database_url, port, tmp_path, "second")
    try:
        def all_sent():
            with db.sessions() as session:
                return set(session.scalars(select(OutgoingMail.state).where(OutgoingMail.id.in_(ids)))) == {"sent"}

        _until(all_sent, second)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert second.returncode == 0, (tmp_path / "second.err").read_text(errors="replace")[-2000:]

    with db.sessions() as session:
        stored = {m.message_id: m for m in session.scalars(select(OutgoingMail).where(OutgoingMail.id.in_(ids)))}
    assert {m.state for m in stored.values()} == {"sent"}
    received = Counter(m["Message-ID"] for m in handler.messages())
    assert set(received) == set(stored)  # none lost
    twice = {message_id for message_id, n in received.items() if n > 1}
    assert twice <= set(held) and max(received.values()) <= 2  # only the mail in hand at the kill, at most once more
    for message_id in twice:  # the copy is the same message, so receivers can drop it
        copies = [bytes(m) for m in handler.messages() if m["Message-ID"] == message_id]
        assert copies[0] == copies[1]

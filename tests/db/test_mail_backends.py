"""Mail transports and commands: .eml folder, log, SMTP login and STARTTLS, `mapsvc mail …`, the serve thread."""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from mapsvc.cli import main
from mapsvc.errors import BadRequest, ConfigurationError
from mapsvc.services.mail import queue_mail
from mapsvc.services.mail_sender import FolderTransport, LogTransport, SmtpTransport, mail_settings
from mapsvc.services.mail_worker import run_worker, send_due
from mapsvc.storage import mail as store
from mapsvc.storage.models import OutgoingMail
from tests.support.smtp_server import (
    PasswordCheck,
    RecordingHandler,
    free_port,
    self_signed_certificate,
    server_tls_context,
    smtp_server,
)

NOW = datetime(2026, 9, 14, 8, 30, tzinfo=timezone.utc)


def settings(**extra):
    config = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_TLS": "none", "SMTP_TIMEOUT": 5,
              "MAIL_FROM": "mapsvc <noreply@mapsvc.example>", "MAIL_MAX_ATTEMPTS": 5, "MAIL_BACKOFF_SECONDS": 60}
    config.update(extra)
    return mail_settings(config)


def queue_one(db, **kwargs) -> int:
    with db.transaction() as session:
        return queue_mail(session, **{"to_address": "bewoner@example.be", "subject": "Één update voor Noël",
                                      "body_text": "Tekst", "now": NOW, **kwargs}).id


def state_of(db, mail_id):
    with db.sessions() as session:
        mail = session.get(OutgoingMail, mail_id)
        return mail.state, mail.attempts


def test_the_folder_backend_writes_the_full_message_once(db, tmp_path):
    config = settings(MAIL_BACKEND="folder", MAIL_FOLDER=str(tmp_path / "mail"))
    mail_id = queue_one(db, body_html="<p>Tekst</p>", unsubscribe_url="https://example.be/uit")
    run_worker(db, config, once=True, transport=FolderTransport(config.folder), clock=lambda: NOW)
    (eml,) = (tmp_path / "mail").glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert message["Subject"] == "Één update voor Noël" and message["To"] == "bewoner@example.be"
    assert message["List-Unsubscribe"] == "<https://example.be/uit>"
    assert message.get_body(("html",)).get_content().strip() == "<p>Tekst</p>"
    assert state_of(db, mail_id) == ("sent", 1)

    # A resend (say after a crash) overwrites the same file rather than adding a second one.
    with db.sessions() as session:
        mail = session.get(OutgoingMail, mail_id)
    from mapsvc.services.mail_sender import build_message

    FolderTransport(config.folder).send(build_message(mail, config), envelope_from="x@example.be",
                                        to_address="bewoner@example.be")
    assert list((tmp_path / "mail").glob("*.eml")) == [eml]


def test_the_log_backend_logs_the_message_id_and_the_message_only_at_debug(db, caplog):
    mail_id = queue_one(db, unsubscribe_url="https://example.be/unsubscribe/geheim-token")
    with caplog.at_level(logging.INFO, logger="mapsvc.services.mail_sender"):
        send_due(db, settings(MAIL_BACKEND="log"), LogTransport(), clock=lambda: NOW)
    with db.sessions() as session:
        message_id = session.get(OutgoingMail, mail_id).message_id
    assert message_id in caplog.text
    assert "bewoner@example.be" not in caplog.text and "geheim-token" not in caplog.text  # not at INFO
    assert state_of(db, mail_id) == ("sent", 1)

    caplog.clear()
    with db.transaction() as session:
        retry_at = session.get(OutgoingMail, mail_id)
        retry_at.state, retry_at.next_attempt_at = "queued", NOW
    with caplog.at_level(logging.DEBUG, logger="mapsvc.services.mail_sender"):
        send_due(db, settings(MAIL_BACKEND="log"), LogTransport(), clock=lambda: NOW)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 1 and "bewoner@example.be" in debug[0] and "Subject:" in debug[0]


def test_addresses_in_smtp_refusals_stay_out_of_logs_and_last_error(db, caplog):
    handler = RecordingHandler(replies=["550 5.1.1 <bewoner@example.be>: Recipient address rejected"])
    with smtp_server(handler) as port:
        mail_id = queue_one(db)
        config = settings(SMTP_PORT=port)
        transport = SmtpTransport(config)
        with caplog.at_level(logging.DEBUG, logger="mapsvc"):
            assert send_due(db, config, transport, clock=lambda: NOW).failed == 1
        transport.close()
    with db.sessions() as session:
        error = session.get(OutgoingMail, mail_id).last_error
    assert error.startswith("550 5.1.1 <address>: Recipient address rejected"), error
    assert "@" not in error and "bewoner@example.be" not in caplog.text
    assert "<address>" in caplog.text


def test_smtp_login(db):
    handler = RecordingHandler()
    with smtp_server(handler, authenticator=PasswordCheck("mapsvc", "juist wachtwoord"),
                     auth_require_tls=False) as port:
        mail_id = queue_one(db)
        wrong = settings(SMTP_PORT=port, SMTP_USERNAME="mapsvc", SMTP_PASSWORD="fout")
        refused = SmtpTransport(wrong)
        try:
            report = send_due(db, wrong, refused, clock=lambda: NOW)
        finally:
            refused.close()
        assert report.server_down and "535" in report.server_down
        assert state_of(db, mail_id) == ("queued", 1) and handler.messages() == []

        right = settings(SMTP_PORT=port, SMTP_USERNAME="mapsvc", SMTP_PASSWORD="juist wachtwoord")
        transport = SmtpTransport(right)
        assert send_due(db, right, transport, clock=lambda: NOW + timedelta(hours=1)).sent == 1
        transport.close()
    assert len(handler.messages()) == 1 and state_of(db, mail_id) == ("sent", 2)


def test_starttls_checks_the_certificate(db, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    handler = RecordingHandler()
    with smtp_server(handler, tls_context=server_tls_context(cert, key), require_starttls=True) as port:
        config = settings(SMTP_PORT=port, SMTP_TLS="starttls")
        mail_id = queue_one(db)
        distrusting = SmtpTransport(config)
        try:
            untrusted = send_due(db, config, distrusting, clock=lambda: NOW)
        finally:
            distrusting.close()
        assert untrusted.server_down and "CERTIFICATE_VERIFY_FAILED" in untrusted.server_down
        assert handler.messages() == []

        trusting = SmtpTransport(config, ssl_context=ssl.create_default_context(cafile=str(cert)))
        assert send_due(db, config, trusting, clock=lambda: NOW + timedelta(hours=1)).sent == 1
        trusting.close()
    assert len(handler.messages()) == 1 and state_of(db, mail_id) == ("sent", 2)


def test_bad_input_is_refused_when_queued(db):
    with db.transaction() as session:
        with pytest.raises(BadRequest, match="not an e-mail address"):
            queue_mail(session, to_address="geen adres", subject="s", body_text="b", now=NOW)
        with pytest.raises(ValueError, match="one line"):
            queue_mail(session, to_address="a@example.be", subject="s\nBcc: x@example.be", body_text="b", now=NOW)
        for breaking in ("\r", "\u2028", "\x85", "\x0b"):  # any line break, not only \n, and a 400 for the web
            with pytest.raises(BadRequest, match="one line"):
                queue_mail(session, to_address="a@example.be", subject=f"s{breaking}t", body_text="b", now=NOW)
        with pytest.raises(ValueError, match="absolute http"):
            queue_mail(session, to_address="a@example.be", subject="s", body_text="b", now=NOW,
                       unsubscribe_url="javascript:alert(1)")


@pytest.mark.parametrize("setting, value", [("MAIL_BACKEND", "pigeon"), ("SMTP_TLS", "maybe"),
                                            ("MAIL_FROM", "not an address"), ("MAIL_MAX_ATTEMPTS", 0)])
def test_wrong_settings_say_what_to_fix(setting, value):
    with pytest.raises(ConfigurationError, match=f"MAPSVC_{setting}"):
        settings(**{setting: value})


def test_the_port_follows_the_tls_mode():
    assert [settings(SMTP_TLS=mode).smtp_port for mode in ("starttls", "ssl", "none")] == [587, 465, 25]
    assert settings(SMTP_PORT=2525).smtp_port == 2525


@pytest.fixture
def smtp():
    handler = RecordingHandler()
    with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture
def cli(make_app, smtp):
    app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_TLS="none",
                   MAIL_FROM="mapsvc <noreply@mapsvc.example>")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(map(str, args)), obj=ScriptInfo(create_app=lambda: app))

    return app.extensions["mapsvc.db"], run


def test_the_commands_send_list_and_retry(cli, smtp):
    db, run = cli
    handler, _ = smtp
    handler.replies.append("550 5.1.1 unknown user")
    with db.transaction() as session:
        failing = queue_mail(session, to_address="weg@example.be", subject="eerste", body_text="b",
                             now=datetime.now(timezone.utc)).id
        queue_mail(session, to_address="er@example.be", subject="tweede", body_text="b", now=datetime.now(timezone.utc))

    result = run("mail", "send", "--once")
    assert result.exit_code == 0, result.output
    assert "Sent 1 mail(s)" in result.output and "1 failed" in result.output

    listed = run("mail", "list", "--failed")
    assert listed.exit_code == 0 and f"{failing:>6}  failed" in listed.output and "550 5.1.1" in listed.output
    assert "tweede" not in listed.output

    assert run("mail", "retry", failing).exit_code == 0
    assert run("mail", "list", "--state", "queued").output.count("weg@example.be") == 1
    assert "Sent 1 mail(s)" in run("mail", "send", "--once").output
    assert len(handler.messages()) == 2

    again = run("mail", "retry", failing)
    assert again.exit_code == 1 and "only a failed mail can be retried" in again.output
    missing = run("mail", "retry", 999999)
    assert missing.exit_code == 1 and "There is no mail 999999" in missing.output


def test_serve_sends_queued_mail_in_a_background_thread(database_url, make_app, smtp, tmp_path):
    handler, smtp_port = smtp
    db = make_app().extensions["mapsvc.db"]  # migrates the database
    queue_one(db)
    env = {**os.environ, "MAPSVC_DATABASE_URL": database_url, "MAPSVC_MAIL_BACKEND": "smtp",
           "MAPSVC_SMTP_HOST": "127.0.0.1", "MAPSVC_SMTP_PORT": str(smtp_port), "MAPSVC_SMTP_TLS": "none"}
    # Files, not pipes: a child that writes more than a pipe holds would block while nobody reads.
    with open(tmp_path / "serve.out", "wb") as out, open(tmp_path / "serve.err", "wb") as err:
        server = subprocess.Popen([str(Path(sys.executable).parent / "mapsvc"), "serve", "--port",
                                   str(free_port())], env=env, cwd=tmp_path, stdout=out, stderr=err)
        try:
            deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
            while not handler.messages() and time.monotonic() < deadline and server.poll() is None:
                time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=30)
    stderr = (tmp_path / "serve.err").read_bytes()
    assert len(handler.messages()) == 1, stderr.decode(errors="replace")[-2000:]
    assert handler.messages()[0]["Subject"] == "Één update voor Noël"


def test_a_claimed_mail_is_not_taken_by_a_second_claim(db):
    mail_id = queue_one(db)
    with db.transaction() as session:
        assert store.claim_next(session, now=NOW, lease_until=NOW + timedelta(minutes=5)).id == mail_id
    with db.transaction() as session:
        assert store.claim_next(session, now=NOW + timedelta(minutes=1), lease_until=NOW) is None


def test_the_sending_loop_stops_cleanly_on_sigterm(database_url, make_app, smtp, tmp_path):
    handler, smtp_port = smtp
    db = make_app().extensions["mapsvc.db"]
    queue_one(db)
    env = {**os.environ, "MAPSVC_DATABASE_URL": database_url, "MAPSVC_MAIL_BACKEND": "smtp",
           "MAPSVC_SMTP_HOST": "127.0.0.1", "MAPSVC_SMTP_PORT": str(smtp_port), "MAPSVC_SMTP_TLS": "none",
           "MAPSVC_AUTO_MIGRATE": "false"}
    with open(tmp_path / "worker.out", "wb") as out, open(tmp_path / "worker.err", "wb") as err:
        worker = subprocess.Popen([str(Path(sys.executable).parent / "mapsvc"), "mail", "send", "--interval", "0.2"],
                                  env=env, cwd=tmp_path, stdout=out, stderr=err)
        try:
            deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
            while not handler.messages() and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
        finally:
            worker.terminate()  # SIGTERM: finish the mail in hand, then stop
            worker.wait(timeout=30)
    assert worker.returncode == 0, (tmp_path / "worker.err").read_text(errors="replace")[-2000:]
    assert "Sent 1 mail(s) to SMTP 127.0.0.1" in (tmp_path / "worker.out").read_text()
    assert len(handler.messages()) == 1

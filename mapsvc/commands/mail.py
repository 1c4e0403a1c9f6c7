"""The `mapsvc` commands of the mail area: the sending worker, the queue list and retrying failed mail."""

from __future__ import annotations

import functools
import os
import signal
import threading
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext

from mapsvc.services.mail import STATES


def _settings():
    from mapsvc.services.mail_sender import mail_settings

    return mail_settings(current_app.config["MAPSVC"])


def _database():
    return current_app.extensions["mapsvc.db"]


def register(main: click.Group) -> None:
    """Add this area's commands to the `mapsvc` command line."""
    from mapsvc.cli import _friendly

    @main.group()
    def mail():
        """Send queued e-mail and look after the queue."""

    @mail.command("send")
    @click.option("--once", is_flag=True, help="Send what is due now, then stop (for cron or systemd timers).")
    @click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 100_000),
                  help="Mails per round before the queue is looked at again.")
    @click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(0.1, 86_400),
                  help="Seconds to wait when nothing is due.")
    @_friendly
    def mail_send(once: bool, batch: int, interval: float):
        """Send queued mail: keep running until Ctrl-C (or SIGTERM), or drain once with --once."""
        from mapsvc.services.mail_sender import describe_backend
        from mapsvc.services.mail_worker import run_worker

        settings = _settings()
        stop = threading.Event()
        if not once:
            # Finish the mail in hand, then stop: an interrupted send would only be retried after its lease.
            def finish(*_):
                if stop.is_set():  # asked twice: stop now, the mail in hand is retried after its lease
                    raise KeyboardInterrupt
                stop.set()

            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, finish)
            click.echo(f"Sending mail to {describe_backend(settings)}; Ctrl-C stops after the current mail.")

        def on_round(report):
            if not once:
                click.echo(f"sent {report.sent}, retry later {report.retried}, failed {report.failed}")

        total = run_worker(_database(), settings, batch=batch, interval=interval, once=once, stop=stop,
                           on_round=on_round)
        click.echo(f"Sent {total.sent} mail(s) to {describe_backend(settings)}; {total.retried} to retry later, "
                   f"{total.failed} failed.")
        if total.server_down:
            click.echo(f"The mail server could not be reached: {total.server_down}", err=True)

    @mail.command("list")
    @click.option("--state", type=click.Choice(STATES), help="Only mails in this state.")
    @click.option("--failed", is_flag=True, help="Only failed mails (same as --state failed).")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
    @_friendly
    def mail_list(state, failed: bool, limit: int):
        """List the newest queued, sent and failed mails."""
        from mapsvc.services.mail import list_mails

        with _database().sessions() as session:
            mails = list_mails(session, state="failed" if failed else state, limit=limit)
        if not mails:
            click.echo("No mail.")
        for m in mails:
            when = m.sent_at if m.state == "sent" else m.next_attempt_at
            click.echo(f"{m.id:>6}  {m.state:<7}  attempts {m.attempts:<2}  {when:%Y-%m-%d %H:%M}Z  "
                       f"{m.to_address or '(deleted)'}  {m.subject[:60]}")
            if m.last_error and m.state != "sent":
                click.echo(f"        last error: {m.last_error[:300]}")

    @mail.command("retry")
    @click.argument("mail_id", type=int)
    @_friendly
    def mail_retry(mail_id: int):
        """Queue a failed mail again, due now, with a fresh count of attempts."""
        from mapsvc.services.mail import retry_mail

        with _database().transaction() as session:
            retry_mail(session, mail_id, now=datetime.now(timezone.utc))
        click.echo(f"Mail {mail_id} is queued again; `mapsvc mail send` sends it.")

    serve = main.commands.get("serve")
    if serve is not None:
        _send_while_serving(serve)


def _send_while_serving(serve: click.Command) -> None:
    """Make `mapsvc serve` (development) run the mail worker in a thread when MAIL_WORKER_THREAD is on."""
    # The thread starts here, not in create_app, so that gunicorn (production) never runs one.
    original = serve.callback

    @functools.wraps(original)
    def callback(*args, **kwargs):
        from mapsvc.services.mail_worker import start_background_worker

        # Under the reloader (--debug) only the serving child process sends, not the watching parent.
        serving = not kwargs.get("debug") or os.environ.get("WERKZEUG_RUN_MAIN") == "true"
        stop = None
        if serving and current_app.config["MAPSVC"]["MAIL_WORKER_THREAD"]:
            _thread, stop = start_background_worker(_database(), _settings())
        try:
            return click.get_current_context().invoke(original, *args, **kwargs)
        finally:
            if stop is not None:
                stop.set()

    serve.callback = with_appcontext(callback)

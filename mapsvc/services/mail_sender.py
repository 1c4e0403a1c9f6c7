"""Turn a queued mail into an RFC 5322 message and hand it to a transport: SMTP, a folder of .eml files or the log."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any, Protocol

from mapsvc.errors import ConfigurationError
from mapsvc.storage.models import OutgoingMail

log = logging.getLogger(__name__)

BACKENDS = ("smtp", "folder", "log")
TLS_MODES = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class MailSettings:
    """The MAIL_* and SMTP_* settings, checked."""

    backend: str = "folder"
    folder: str = "mail"
    mail_from: str = "mapsvc <noreply@localhost>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout: int = 30
    max_attempts: int = 10
    backoff_seconds: int = 60

    @property
    def envelope_from(self) -> str:
        """Return the bare address of MAIL_FROM (the SMTP envelope sender)."""
        return getaddresses([self.mail_from])[0][1]

    @property
    def lease_seconds(self) -> int:
        """How long a worker may hold a claimed mail: longer than any one live SMTP exchange."""
        # smtplib's timeout bounds each socket operation; one message takes about ten of them
        # (connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA, body, QUIT).
        return max(60, 10 * self.smtp_timeout)


def mail_settings(config: Mapping[str, Any]) -> MailSettings:
    """Read and check the mail settings of an app's MAPSVC config."""
    backend = str(config.get("MAIL_BACKEND") or "folder").strip().lower()
    if backend not in BACKENDS:
        raise ConfigurationError(f"MAPSVC_MAIL_BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}.")
    tls = str(config.get("SMTP_TLS") or "starttls").strip().lower()
    if tls not in TLS_MODES:
        raise ConfigurationError(f"MAPSVC_SMTP_TLS must be one of {', '.join(TLS_MODES)}, got {tls!r}.")
    mail_from = str(config.get("MAIL_FROM") or "").strip()
    pairs = getaddresses([mail_from])
    if len(pairs) != 1 or "@" not in pairs[0][1] or "\n" in mail_from or "\r" in mail_from:
        raise ConfigurationError(f"MAPSVC_MAIL_FROM must be one address like 'mapsvc <noreply@example.be>', "
                                 f"got {mail_from!r}.")
    numbers = {}
    for key, low in (("SMTP_TIMEOUT", 1), ("MAIL_MAX_ATTEMPTS", 1), ("MAIL_BACKOFF_SECONDS", 1)):
        value = config.get(key)
        if not isinstance(value, int) or value < low:
            raise ConfigurationError(f"MAPSVC_{key} must be a whole number of at least {low}, got {value!r}.")
        numbers[key] = value
    port = config.get("SMTP_PORT") or TLS_MODES[tls]
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigurationError(f"MAPSVC_SMTP_PORT must be a port number, got {port!r}.")
    return MailSettings(
        backend=backend, folder=str(config.get("MAIL_FOLDER") or "mail"), mail_from=mail_from,
        smtp_host=str(config.get("SMTP_HOST") or "localhost"), smtp_port=port, smtp_tls=tls,
        smtp_username=config.get("SMTP_USERNAME") or None, smtp_password=config.get("SMTP_PASSWORD") or None,
        smtp_timeout=numbers["SMTP_TIMEOUT"], max_attempts=numbers["MAIL_MAX_ATTEMPTS"],
        backoff_seconds=numbers["MAIL_BACKOFF_SECONDS"],
    )


def build_message(mail: OutgoingMail, settings: MailSettings) -> EmailMessage:
    """Build the full message of a queued mail: text, optional HTML alternative, UTF-8, stable Message-ID."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = Address(addr_spec=mail.to_address)
    message["Subject"] = mail.subject
    # Fixed at queue time, so every retry is byte-for-byte the same message with the same id.
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    # RFC 3834: an automatic mail, so vacation responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (mail.headers or {}).items():
        message[name] = value
    message.set_content(mail.body_text, charset="utf-8")
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html", charset="utf-8")
    return message


class TemporaryFailure(Exception):
    """The mail may go through later (SMTP 4xx, a refused connection, a timeout)."""

    def __init__(self, message: str, *, server_down: bool = False):
        super().__init__(message)
        # The server could not be reached at all: no use trying the next mail now either.
        self.server_down = server_down


class PermanentFailure(Exception):
    """The server refused this mail for good (SMTP 5xx)."""


class Transport(Protocol):
    """Delivers messages; one per worker, closed when the worker stops."""

    def send(self, message: EmailMessage, *, envelope_from: str, to_address: str) -> None: ...

    def close(self) -> None: ...


class LogTransport:
    """Write each message to the log: for development only.

    A message holds its recipient's address and a working unsubscribe link, so the whole message goes to the
    log at DEBUG only; at INFO just its Message-ID. Never use it in production (use smtp).
    """

    def send(self, message: EmailMessage, *, envelope_from: str, to_address: str) -> None:
        """Log the Message-ID at INFO and the full message at DEBUG."""
        log.info("mail %s written to the log (MAIL_BACKEND=log, development only)", message["Message-ID"])
        log.debug("mail %s (MAIL_BACKEND=log):\n%s", message["Message-ID"], message.as_string())

    def close(self) -> None:
        """Nothing to close."""


class FolderTransport:
    """Write each message as an .eml file in a folder (development); a resend overwrites the same file."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def path_for(self, message: EmailMessage) -> Path:
        """Return the file a message is written to, named after its Message-ID."""
        name = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"]).strip("<>"))
        return self.folder / f"{name}.eml"

    def send(self, message: EmailMessage, *, envelope_from: str, to_address: str) -> None:
        """Write the message atomically (a reader never sees half a file)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.path_for(message)
            partial = target.with_suffix(".eml.part")
            partial.write_bytes(message.as_bytes())
            partial.replace(target)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write to {self.folder}: {exc}") from exc

    def close(self) -> None:
        """Nothing to close."""


# Codes that say the server or our account is wrong, not this mail: retry later rather than give up.
_NOT_THE_MAILS_FAULT = (smtplib.SMTPAuthenticationError, smtplib.SMTPConnectError, smtplib.SMTPHeloError)


class SmtpTransport:
    """Send through an SMTP server (STARTTLS, implicit TLS or none; optional login), one connection per worker."""

    def __init__(self, settings: MailSettings, *, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = self.ssl_context or ssl.create_default_context()
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            smtp.ehlo()
            if s.smtp_tls == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, *, envelope_from: str, to_address: str) -> None:
        """Send one message; raise TemporaryFailure or PermanentFailure when the server does not take it."""
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                raise TemporaryFailure(f"cannot reach {self.settings.smtp_host}:{self.settings.smtp_port}: "
                                       f"{_describe(exc)}", server_down=True) from exc
        try:
            self._smtp.send_message(message, from_addr=envelope_from, to_addrs=[to_address])
        except (smtplib.SMTPException, OSError) as exc:
            # After any error the session state is unknown: start the next mail on a fresh connection.
            self.close()
            raise _classify(exc) from exc

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {_text(reply)}" for code, reply in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _classify(exc: BaseException) -> TemporaryFailure | PermanentFailure:
    """Say whether a failed send may succeed later: 5xx replies are final, everything else is retried."""
    text = _describe(exc)[:1000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return PermanentFailure(text) if codes and all(code >= 500 for code in codes) else TemporaryFailure(text)
    if isinstance(exc, _NOT_THE_MAILS_FAULT):
        return TemporaryFailure(text, server_down=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        return PermanentFailure(text) if exc.smtp_code >= 500 else TemporaryFailure(text)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentFailure(text)  # e.g. an internationalised address the server cannot take
    return TemporaryFailure(text)  # disconnected, timed out, refused: the server may be back later


def make_transport(settings: MailSettings) -> Transport:
    """Create the transport MAIL_BACKEND names."""
    if settings.backend == "smtp":
        return SmtpTransport(settings)
    if settings.backend == "folder":
        return FolderTransport(settings.folder)
    return LogTransport()


def describe_backend(settings: MailSettings) -> str:
    """Say in a few words where mail goes (never the password)."""
    if settings.backend == "smtp":
        login = f" as {settings.smtp_username}" if settings.smtp_username else ""
        return f"SMTP {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_tls}){login}"
    if settings.backend == "folder":
        return f".eml files in {settings.folder}"
    return "the log"


def backoff(settings: MailSettings, attempts: int, *, cap_seconds: int = 6 * 3600) -> float:
    """Return the wait in seconds after the `attempts`-th failed attempt: base × 2^(attempts−1), capped."""
    return float(min(settings.backoff_seconds * 2 ** max(attempts - 1, 0), cap_seconds))


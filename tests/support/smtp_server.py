"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests: records what it accepts, refuses on demand."""

from __future__ import annotations

import asyncio
import datetime
import errno
import ipaddress
import socket
import ssl
import threading
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    """Accept every message (recording it), except for the scripted replies given to the next DATA commands."""

    def __init__(self, replies: list[str] | None = None, delay: float = 0.0):
        self.replies = list(replies or [])
        self.delay = delay
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)  # lets concurrent workers interleave
        with self._lock:
            if self.replies:
                reply = self.replies.pop(0)
                self.refused.append(reply)
                return reply
            message = message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """Return the accepted messages, in order."""
        with self._lock:
            return [message for _, _, message in self.received]


class PasswordCheck:
    """An aiosmtpd authenticator that knows one user."""

    def __init__(self, username: str, password: str):
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = getattr(auth_data, "login", None) == self.username and getattr(auth_data, "password", None) == self.password
        return AuthResult(success=ok, handled=False)  # handled=False: the server sends 235 or 535 itself


@contextmanager
def smtp_server(handler: RecordingHandler, **controller_options):
    """Run an aiosmtpd server on 127.0.0.1 in a thread; yield its port."""
    for attempt in range(5):
        # free_port() only says the port was free a moment ago: another process may bind it first.
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **controller_options)
        try:
            controller.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or attempt == 4:
                raise
            controller.loop.close()
            continue
        break
    try:
        yield port
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 (and its key); return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """Return the server side TLS context for the certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context

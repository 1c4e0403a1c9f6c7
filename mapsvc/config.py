"""One place for settings: defaults, overridden by MAPSVC_* environment variables, then by a mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mapsvc.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULTS: dict[str, Any] = {
    # sqlite:///… selects SpatiaLite, postgresql+psycopg://… selects PostGIS. None: a SpatiaLite file
    # in the instance folder, created on first run.
    "DATABASE_URL": None,
    # Run Alembic migrations when the app starts. Switch off under several gunicorn workers and
    # run `mapsvc db upgrade` once before starting them.
    "AUTO_MIGRATE": True,
    "DATA_DIR": str(REPO_ROOT / "data"),
    "DEFAULT_PAGE_SIZE": 100,
    "MAX_PAGE_SIZE": 1000,
    # Signs session cookies. Unset: a random key kept in the instance folder (one host only; set it in
    # production so that every worker and host agrees).
    "SECRET_KEY": None,
    # Development: plain-HTTP cookies (no Secure flag). `mapsvc serve` switches it on.
    "DEVELOPMENT": False,
    # Rate limits (Flask-Limiter syntax) and where their counters live: memory:// for one process,
    # redis://host:6379 for several workers.
    "RATELIMIT_STORAGE_URL": "memory://",
    "RATE_LIMIT_LOGIN": "10 per minute",
    "RATE_LIMIT_PINS": "30 per hour",
    "RATE_LIMIT_VOTES": "300 per hour",
    "TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "TILE_ATTRIBUTION": "© OpenStreetMap contributors",
    # The service's public address, for links in e-mails (built outside any request): unsubscribe links,
    # map pages, the preferences page.
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # OpenID Connect login for the whole instance (README "Government login"); `mapsvc oidc set` (stored in
    # the database, also per platform) takes precedence. Empty issuer: no instance-wide OIDC login.
    "OIDC_ISSUER": "",
    "OIDC_CLIENT_ID": "",
    "OIDC_CLIENT_SECRET": "",
    "OIDC_LABEL": "",
    # Key of the keyed hash (HMAC-SHA256) under which a login's `sub` is stored. Empty: SECRET_KEY. Set it
    # before the first government login so that SECRET_KEY can be rotated without orphaning those accounts.
    "OIDC_SUBJECT_KEY": "",
    # Address search on the map pages (README "Keyboard and screen readers"): a Nominatim-compatible
    # service asked by the server (/search?format=jsonv2). Empty: the pages offer coordinates only.
    "GEOCODER_URL": "",
    "RATE_LIMIT_GEOCODE": "30 per minute",
    # Outgoing mail (README "E-mail"): queued in the database, sent by `mapsvc mail send`.
    # MAIL_BACKEND: smtp (production), folder (.eml files in MAIL_FOLDER) or log.
    "MAIL_BACKEND": "folder",
    "MAIL_FOLDER": None,  # None: the instance folder's mail/
    "MAIL_FROM": "mapsvc <noreply@localhost>",
    "SMTP_HOST": "localhost",
    "SMTP_PORT": None,  # None: 587 for starttls, 465 for ssl, 25 for none
    "SMTP_TLS": "starttls",  # starttls | ssl | none
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_TIMEOUT": 30,  # seconds per SMTP operation
    "MAIL_MAX_ATTEMPTS": 10,
    "MAIL_BACKOFF_SECONDS": 60,  # wait after the first failure; doubles each time, at most 6 hours
    # `mapsvc serve` (development only, never gunicorn) sends queued mail in a background thread.
    "MAIL_WORKER_THREAD": True,
}

_BOOLS = {"AUTO_MIGRATE", "DEVELOPMENT", "MAIL_WORKER_THREAD"}
_INTS = {"DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "SMTP_PORT", "SMTP_TIMEOUT", "MAIL_MAX_ATTEMPTS", "MAIL_BACKOFF_SECONDS"}


def _coerce(key: str, value: Any) -> Any:
    if isinstance(value, str) and key in _BOOLS:
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigurationError(f"MAPSVC_{key} must be true or false, got {value!r}.")
    if isinstance(value, str) and key in _INTS:
        try:
            return int(value)
        except ValueError:
            raise ConfigurationError(f"MAPSVC_{key} must be a whole number, got {value!r}.") from None
    return value


def load_settings(overrides: Mapping[str, Any] | None, instance_path: str,
                  environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Merge defaults, MAPSVC_* environment variables and explicit overrides."""
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        if f"MAPSVC_{key}" in environ:
            settings[key] = _coerce(key, environ[f"MAPSVC_{key}"])
    for key, value in (overrides or {}).items():
        settings[key] = _coerce(key, value)
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(Path(instance_path))
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "mapsvc.db")
    if not settings["MAIL_FOLDER"]:
        settings["MAIL_FOLDER"] = str(Path(instance_path) / "mail")
    if not 1 <= settings["DEFAULT_PAGE_SIZE"] <= settings["MAX_PAGE_SIZE"]:
        raise ConfigurationError("DEFAULT_PAGE_SIZE must lie between 1 and MAX_PAGE_SIZE.")
    return settings


def _instance_secret(instance: Path) -> str:
    """Read (or create, readable by the owner only) the instance folder's random secret key."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()

"""Government login: which OpenID Connect provider serves a platform, and the account behind a login.

An account found by OpenID Connect and a local account stay apart unless the person links them. Of the
provider's answer only a keyed hash of `sub` is kept (HMAC-SHA256 with OIDC_SUBJECT_KEY, else the app's
SECRET_KEY), never the subject itself, a name or the national register number.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from mapsvc.errors import BadRequest, Conflict, ConfigurationError, Forbidden, NotFound
from mapsvc.services.accounts import login_stamp
from mapsvc.services.catalogue import get_platform
from mapsvc.services.oidc_protocol import Authentication, Provider, check_issuer_url
from mapsvc.storage import oidc as store
from mapsvc.storage.models import LoginProvider, OidcIdentity, User

INSTANCE = "instance"
PLATFORM_KEY = "platform:"


def subject_hash(secret_key: str, subject: str) -> str:
    """Return the keyed hash (HMAC-SHA256, hex) under which a provider's `sub` is stored."""
    return hmac.new(secret_key.encode(), subject.encode(), hashlib.sha256).hexdigest()


def subject_key(settings: Mapping[str, Any]) -> str:
    """Return the key of the subject hashes: OIDC_SUBJECT_KEY, else SECRET_KEY.

    A key of its own lets SECRET_KEY (session cookies) be rotated without losing every government login's
    account: a new key makes different hashes, so the next login would find no account and make a new one.
    """
    return settings.get("OIDC_SUBJECT_KEY") or settings["SECRET_KEY"]


def _default_label(issuer: str) -> str:
    return urlsplit(issuer).hostname or issuer


def _from_row(row: LoginProvider, key: str) -> Provider:
    return Provider(key=key, label=row.label, issuer=row.issuer, client_id=row.client_id,
                    client_secret=row.client_secret or None)


def _instance_provider(session: Session, settings: Mapping[str, Any]) -> Provider | None:
    row = store.provider_of(session, None)
    if row is not None:
        return _from_row(row, INSTANCE)
    issuer = (settings.get("OIDC_ISSUER") or "").strip()
    if not issuer:
        return None
    if not settings.get("OIDC_CLIENT_ID"):
        raise ConfigurationError("MAPSVC_OIDC_ISSUER is set but MAPSVC_OIDC_CLIENT_ID is not.")
    try:
        issuer = check_issuer_url(issuer)
    except BadRequest as exc:
        raise ConfigurationError("MAPSVC_OIDC_ISSUER: " + exc.message) from None
    return Provider(key=INSTANCE, label=settings.get("OIDC_LABEL") or _default_label(issuer), issuer=issuer,
                    client_id=settings["OIDC_CLIENT_ID"], client_secret=settings.get("OIDC_CLIENT_SECRET") or None)


def _platform_provider(session: Session, platform_slug: str) -> Provider | None:
    platform = get_platform(session, platform_slug)
    row = store.provider_of(session, platform.id)
    return _from_row(row, PLATFORM_KEY + platform.slug) if row is not None else None


def providers_for(session: Session, settings: Mapping[str, Any], platform_slug: str | None) -> list[Provider]:
    """Return the providers a login page offers: the instance's, then the platform's (if any)."""
    found = []
    instance = _instance_provider(session, settings)
    if instance is not None:
        found.append(instance)
    if platform_slug:
        try:
            own = _platform_provider(session, platform_slug)
        except NotFound:
            own = None
        if own is not None:
            found.append(own)
    return found


def provider_for_login(session: Session, settings: Mapping[str, Any], platform_slug: str | None) -> Provider:
    """Return the provider a login starts with: the platform's own, else the instance's."""
    provider = _platform_provider(session, platform_slug) if platform_slug else None
    provider = provider or _instance_provider(session, settings)
    if provider is None:
        raise NotFound("No government login (OpenID Connect) is set up here; log in with your e-mail address.",
                       code="oidc_not_configured")
    return provider


def provider_by_key(session: Session, settings: Mapping[str, Any], key: str) -> Provider | None:
    """Return the provider a session names ('instance' or 'platform:<slug>'), or None when it is gone."""
    try:
        if key == INSTANCE:
            return _instance_provider(session, settings)
        if key.startswith(PLATFORM_KEY):
            return _platform_provider(session, key[len(PLATFORM_KEY):])
    except NotFound:
        return None
    return None


@dataclass(frozen=True)
class SignIn:
    """The account a login found or made, whether it is new, and its login stamp (accounts.login_stamp)."""

    user_id: int
    created: bool
    stamp: str


def sign_in(session: Session, secret_key: str, login: Authentication, *, now: datetime,
            link_user_id: int | None = None, locale: str = "nl") -> SignIn:
    """Find (or make) the account of a verified login; with link_user_id, attach the identity to that account."""
    hashed = subject_hash(secret_key, login.subject)
    identity = store.find_identity(session, login.issuer, hashed)
    created = False
    if link_user_id is not None:
        if identity is not None and identity.user_id != link_user_id:
            raise Conflict("This government login belongs to another account already. Log in with it and "
                           "delete or unlink that account first.", code="oidc_identity_taken")
        user = session.get(User, link_user_id)
        if user is None or not user.is_active:
            raise Forbidden("This account is not active.", code="oidc_account_inactive")
        if identity is None:
            identity = OidcIdentity(user_id=user.id, issuer=login.issuer, subject_hash=hashed)
            if not store.insert_identity(session, identity):
                raise Conflict("This government login belongs to another account already.",
                               code="oidc_identity_taken")
    else:
        if identity is None:
            # No name, no e-mail: nothing from the profile is kept unless the person chooses to later.
            user = User(email=None, password_hash=None, display_name=None,
                        locale=locale if locale in ("nl", "fr", "en") else "nl", is_active=True)
            identity = OidcIdentity(issuer=login.issuer, subject_hash=hashed)
            created = store.insert_identity(session, identity, new_user=user)
            if not created:  # a parallel first login made it: use that account
                identity = store.find_identity(session, login.issuer, hashed)
        user = session.get(User, identity.user_id)
        if user is None or not user.is_active:
            raise Forbidden("This account is not active.", code="oidc_account_inactive")
    identity.last_login_at = now
    session.flush()
    return SignIn(user.id, created, login_stamp(user))


def acr_scope(session: Session, settings: Mapping[str, Any], issuer: str | None) -> frozenset[int | None]:
    """Return where an acr from this issuer counts: None for every platform (the instance's provider), else the
    ids of the platforms whose own provider it is; empty for an issuer configured nowhere (any more)."""
    if not issuer:
        return frozenset()
    same = issuer.rstrip("/")
    scope: set[int | None] = set()
    try:
        instance = _instance_provider(session, settings)
    except ConfigurationError:
        instance = None
    if instance is not None and instance.issuer.rstrip("/") == same:
        scope.add(None)
    scope.update(row.platform_id for row, _slug in store.list_providers(session)
                 if row.platform_id is not None and row.issuer.rstrip("/") == same)
    return frozenset(scope)


def _label(label: str | None, issuer: str) -> str:
    if label is None:
        return _default_label(issuer)
    label = label.strip()
    if not label or len(label) > 100:
        raise BadRequest("The label is the provider's name on the login button, 1 to 100 characters.",
                         code="invalid_label")
    return label


def set_provider(session: Session, issuer: str, client_id: str, client_secret: str | None = None, *,
                 platform_slug: str | None = None, label: str | None = None) -> LoginProvider:
    """Configure the OpenID Connect provider of the instance, or of one platform (replacing the earlier one)."""
    issuer = check_issuer_url(issuer)
    client_id = (client_id or "").strip()
    if not client_id or len(client_id) > 200:
        raise BadRequest("The client id is the one the provider registered for this service (1 to 200 "
                         "characters).", code="invalid_client_id")
    if client_secret is not None and len(client_secret) > 500:
        raise BadRequest("The client secret is at most 500 characters.", code="invalid_client_secret")
    platform_id = get_platform(session, platform_slug).id if platform_slug else None
    row = store.provider_of(session, platform_id)
    if row is None:
        row = LoginProvider(platform_id=platform_id)
        session.add(row)
    row.issuer, row.client_id, row.client_secret = issuer, client_id, client_secret or None
    row.label = _label(label, issuer)
    session.flush()
    return row


def remove_provider(session: Session, platform_slug: str | None = None) -> LoginProvider:
    """Remove the provider of the instance or of a platform; identities made with it stay."""
    platform_id = get_platform(session, platform_slug).id if platform_slug else None
    row = store.provider_of(session, platform_id)
    if row is None:
        where = f"platform {platform_slug!r}" if platform_slug else "the instance"
        raise NotFound(f"No OpenID Connect provider is configured for {where}.", code="oidc_not_configured")
    session.delete(row)
    session.flush()
    return row


def list_providers(session: Session) -> list[tuple[str | None, LoginProvider]]:
    """Return (platform slug or None for the instance, provider) for every configured provider."""
    return [(slug, provider) for provider, slug in store.list_providers(session)]

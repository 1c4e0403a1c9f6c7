"""Local accounts: create, authenticate, grant roles and issue personal API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mapsvc.errors import BadRequest, Conflict, NotFound
from mapsvc.services.catalogue import get_layer, get_platform
from mapsvc.services.permissions import ANONYMOUS, INITIATIVE_MANAGER, ROLES, Actor
from mapsvc.storage import accounts as store
from mapsvc.storage.models import ApiToken, RoleGrant, User, utcnow

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "mapsvc_"
# An embedded map on another site cannot use the session cookie (browsers withhold SameSite=Lax cookies, and
# more and more all third-party cookies, inside a cross-site frame). After a login in a first-party popup the
# frame gets a short-lived token of its own instead, kept in the frame's memory and sent as a Bearer header.
EMBED_TOKEN_PREFIX = "mapsvc_embed_"
EMBED_TOKEN_NAME = "embedded map"
EMBED_TOKEN_HOURS = 12
# Checked against a hash that cannot match, so that an unknown e-mail costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def create_user(session: Session, email: str, password: str | None, *, display_name: str | None = None,
                locale: str = "nl") -> User:
    """Create a local account; the password is stored as a scrypt hash."""
    email = (email or "").strip()
    if not EMAIL.match(email):
        raise BadRequest(f"{email[:80]!r} is not an e-mail address.", code="invalid_email")
    if password is not None and len(password) < MIN_PASSWORD:
        raise BadRequest(f"A password needs at least {MIN_PASSWORD} characters.", code="weak_password")
    if locale not in ("nl", "fr", "en"):
        raise BadRequest("locale must be nl, fr or en.", code="invalid_locale")
    if store.find_user_by_email(session, email) is not None:
        raise Conflict(f"An account for {email} exists already.", code="email_taken")
    name = display_name.strip()[:80] if display_name and display_name.strip() else None
    user = User(email=email, password_hash=generate_password_hash(password) if password else None,
                display_name=name, locale=locale, is_active=True)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent sign-up with the same address
        raise Conflict(f"An account for {email} exists already.", code="email_taken") from None
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user whose e-mail and password match, else None."""
    user = store.find_user_by_email(session, email or "")
    if user is None or not user.password_hash or not user.is_active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def get_user(session: Session, email: str) -> User:
    """Return the user with this e-mail, or raise NotFound."""
    user = store.find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No account for {email[:80]!r}.", code="unknown_user")
    return user


def grant_role(session: Session, user: User, role: str, platform_slug: str, layer_slug: str | None = None) -> None:
    """Give a user a role on a platform (an initiative manager on one of its layers)."""
    if role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}; roles: {', '.join(ROLES)}.", code="invalid_role")
    if (role == INITIATIVE_MANAGER) != (layer_slug is not None):
        raise BadRequest("An initiative manager is named for one layer (--layer); other roles for a whole platform.",
                         code="invalid_role_scope")
    platform = get_platform(session, platform_slug)
    layer_id = get_layer(session, platform_slug, layer_slug)[1].id if layer_slug else None
    if any(g.role == role and g.platform_id == platform.id and g.layer_id == layer_id for g in user.grants):
        return
    user.grants.append(RoleGrant(role=role, platform_id=platform.id, layer_id=layer_id))
    session.flush()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str = "script") -> str:
    """Create a personal API token and return it; only its hash is kept, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=_hash(token)))
    session.flush()
    return token


def issue_embed_token(session: Session, user: User, acr: str | None = None, acr_issuer: str | None = None) -> str:
    """Create an embedded map's login token (EMBED_TOKEN_HOURS, the session's acr and its issuer); only its hash
    is kept."""
    token = EMBED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=EMBED_TOKEN_NAME, token_hash=_hash(token), acr=acr,
                         acr_issuer=acr_issuer if acr else None))
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one token (an embedded map logging out); return whether it was valid."""
    found = store.find_token(session, _hash(token)) if token.startswith(TOKEN_PREFIX) and len(token) <= 200 else None
    if found is None:
        return False
    found.revoked_at = utcnow()
    return True


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every token of a user; return how many."""
    now, count = utcnow(), 0
    for token in session.query(ApiToken).filter(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)):
        token.revoked_at, count = now, count + 1
    return count


def actor_for(session: Session, user_id: int | None, acr: str | None = None,
              acr_scope: frozenset[int | None] = frozenset()) -> Actor:
    """Build the Actor of an active user id and login acr (anonymous when None, unknown or deactivated)."""
    if user_id is None:
        return ANONYMOUS
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return ANONYMOUS
    return Actor(user.id, frozenset((g.role, g.platform_id, g.layer_id) for g in user.grants), acr,
                 acr_scope if acr else frozenset())


def login_stamp(user: User) -> str:
    """Return what a login cookie keeps beside the user id: the account's creation time (ISO 8601, UTC)."""
    return user.created_at.astimezone(timezone.utc).isoformat()


def session_actor(session: Session, user_id: int | None, stamp: str | None, acr: str | None = None,
                  acr_scope: frozenset[int | None] = frozenset()) -> Actor:
    """Build the Actor of a cookie session: anonymous unless both the id and the account's creation time match.

    SQLite hands the highest id of a deleted account to the next new one (INTEGER PRIMARY KEY without
    AUTOINCREMENT); a browser still holding the deleted account's id must not become that new account.
    """
    if user_id is None or not isinstance(user_id, int) or not isinstance(stamp, str):
        return ANONYMOUS
    user = session.get(User, user_id)
    if user is None or login_stamp(user) != stamp:
        return ANONYMOUS
    return actor_for(session, user_id, acr, acr_scope)


def user_id_for_token(session: Session, token: str) -> int | None:
    """Return the user id behind a bearer token, or None when it is unknown or revoked."""
    holder = token_holder(session, token)
    return holder.user_id if holder else None


@dataclass(frozen=True)
class TokenHolder:
    """Who a bearer token speaks for, and the assurance level (with its issuer) of the login it came from."""

    user_id: int
    acr: str | None
    acr_issuer: str | None


def token_holder(session: Session, token: str) -> TokenHolder | None:
    """Return who is behind a bearer token, or None when it is unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = store.find_token(session, _hash(token))
    if found is None:
        return None
    if token.startswith(EMBED_TOKEN_PREFIX) and utcnow() - found.created_at > timedelta(hours=EMBED_TOKEN_HOURS):
        return None
    return TokenHolder(found.user_id, found.acr, found.acr_issuer)

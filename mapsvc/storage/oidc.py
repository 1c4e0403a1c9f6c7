"""Queries and writes on OpenID Connect identities and the configured login providers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mapsvc.storage.models import LoginProvider, OidcIdentity, Platform, User


def find_identity(session: Session, issuer: str, subject_hash: str) -> OidcIdentity | None:
    """Return the identity of this issuer and hashed subject, or None."""
    return session.scalar(select(OidcIdentity).where(OidcIdentity.issuer == issuer,
                                                     OidcIdentity.subject_hash == subject_hash))


def identities_of(session: Session, user_id: int) -> list[OidcIdentity]:
    """Return the identities linked to an account."""
    return list(session.scalars(select(OidcIdentity).where(OidcIdentity.user_id == user_id)
                                .order_by(OidcIdentity.id)))


def insert_identity(session: Session, identity: OidcIdentity, new_user: User | None = None) -> bool:
    """Insert an identity (and the new account it belongs to) in a savepoint; False if it exists already."""
    try:
        # A savepoint: losing the race of two first logins with the same subject rolls back only this
        # insert, so the caller can take the identity the other request created.
        with session.begin_nested():
            if new_user is not None:
                session.add(new_user)
                session.flush()
                identity.user_id = new_user.id
            session.add(identity)
            session.flush()
    except IntegrityError:
        return False
    return True


def provider_of(session: Session, platform_id: int | None) -> LoginProvider | None:
    """Return the provider of a platform, or the instance's one when platform_id is None."""
    condition = LoginProvider.platform_id.is_(None) if platform_id is None else LoginProvider.platform_id == platform_id
    return session.scalar(select(LoginProvider).where(condition).order_by(LoginProvider.id))


def list_providers(session: Session) -> list[tuple[LoginProvider, str | None]]:
    """Return every configured provider with its platform's slug (None for the instance)."""
    rows = session.execute(select(LoginProvider, Platform.slug)
                           .join(Platform, Platform.id == LoginProvider.platform_id, isouter=True)
                           .order_by(LoginProvider.platform_id.is_not(None), Platform.slug))
    return [(provider, slug) for provider, slug in rows]

"""Queries and writes on users, their role grants and API tokens."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapsvc.storage.models import ApiToken, RoleGrant, User


def find_user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this e-mail address (case-insensitive), or None."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def find_token(session: Session, token_hash: str) -> ApiToken | None:
    """Return the unrevoked token with this hash, or None."""
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None)))


def grants_of(session: Session, user_id: int) -> list[RoleGrant]:
    """Return a user's role grants."""
    return list(session.scalars(select(RoleGrant).where(RoleGrant.user_id == user_id)))


def lock_user(session: Session, user_id: int) -> None:
    """Serialise a user's concurrent writes (e.g. votes against a budget) until the transaction ends."""
    statement = select(User.id).where(User.id == user_id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    # SQLite: the write transaction already began IMMEDIATE, which serialises every writer.
    session.execute(statement)

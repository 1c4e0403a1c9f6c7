"""The database handle an app or a command holds: one engine, one session factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mapsvc.storage import migrate
from mapsvc.storage.engine import WRITE, create_db_engine


@dataclass
class Database:
    """An engine and the sessions made on it."""

    engine: Engine
    sessions: sessionmaker

    @classmethod
    def connect(cls, url: str) -> Database:
        """Open the database at `url` (SpatiaLite file or PostGIS)."""
        engine = create_db_engine(url)
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    def upgrade(self) -> None:
        """Bring the schema to the newest revision."""
        migrate.upgrade(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose writes are committed together at the end, or not at all."""
        with self.sessions() as session:
            session.connection(execution_options={WRITE: True})  # begins the transaction
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

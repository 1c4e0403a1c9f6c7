"""Events other capabilities react to (e-mail to authors and followers): one function per event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mapsvc.storage.models import Feature


def status_changed(session: Session, feature: Feature, old_status: str | None, *, now: datetime) -> None:
    """React to an official changing a pin's status (in the same transaction): queue the mails."""

"""When a layer takes contributions: its participation window."""

from __future__ import annotations

from datetime import datetime


def window_state(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> str:
    """Say whether a participation window is 'not_yet_open', 'open' or 'closed' at `now`."""
    if opens_at is not None and now < opens_at:
        return "not_yet_open"
    if closes_at is not None and now >= closes_at:
        return "closed"
    return "open"


def check_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    """Raise ValueError when a window closes before it opens."""
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ValueError("A participation window must close after it opens.")

from datetime import datetime, timezone

import pytest

from mapsvc.layers.window import check_window, window_state

T = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
BEFORE = datetime(2026, 9, 1, tzinfo=timezone.utc)
AFTER = datetime(2027, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("opens, closes, state", [
    (None, None, "open"), (BEFORE, AFTER, "open"), (AFTER, None, "not_yet_open"),
    (None, BEFORE, "closed"), (BEFORE, T, "closed"), (T, None, "open"),
])
def test_window_state(opens, closes, state):
    assert window_state(opens, closes, T) == state


def test_window_must_close_after_it_opens():
    with pytest.raises(ValueError):
        check_window(AFTER, BEFORE)
    check_window(BEFORE, AFTER)

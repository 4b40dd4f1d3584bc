"""The send window: never more than the limit in any window, pauses honoured."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors.broadcast.pacing import SendWindow


def _run(window: SendWindow, wishes: list[float], pauses: dict[int, float]) -> list[float]:
    """Start a send for each wish (a time it would like to go), waiting as told; a pause
    (retry_after) arrives right after send i when ``i`` is in ``pauses``."""
    now, starts = 0.0, []
    for i, wish in enumerate(wishes):
        now = max(now, wish)
        now += window.wait(now)
        window.take(now)
        starts.append(now)
        if i in pauses:
            window.pause(now, pauses[i])
    return starts


@given(
    limit=st.integers(1, 40),
    gaps=st.lists(st.floats(0, 0.2, allow_nan=False), min_size=1, max_size=300),
    pauses=st.dictionaries(st.integers(0, 299), st.floats(0.1, 5, allow_nan=False), max_size=5),
)
def test_no_window_holds_more_sends_than_the_limit(
    limit: int, gaps: list[float], pauses: dict[int, float]
) -> None:
    """Whatever the arrival pattern, any span shorter than the window holds at most
    ``limit`` send starts."""
    wishes, t = [], 0.0
    for gap in gaps:
        t += gap
        wishes.append(t)
    starts = _run(SendWindow(limit, 1.0), wishes, pauses)
    for i in range(len(starts) - limit):
        assert starts[i + limit] - starts[i] >= 1.0 - 1e-9


@given(
    limit=st.integers(1, 40),
    at=st.integers(0, 50),
    retry_after=st.floats(0.1, 10, allow_nan=False),
)
def test_nothing_starts_during_a_retry_after(limit: int, at: int, retry_after: float) -> None:
    """After a 429 at send ``at``, no send starts before its retry_after has passed."""
    starts = _run(SendWindow(limit), [0.0] * 60, {at: retry_after})
    paused_at = starts[at]
    assert all(s >= paused_at + retry_after - 1e-9 for s in starts[at + 1 :])


def test_sends_within_the_limit_go_at_once() -> None:
    """Up to the limit, sends start without waiting; the next waits for the window."""
    window = SendWindow(3, 1.0)
    for _ in range(3):
        assert window.wait(0.5) == 0
        window.take(0.5)
    assert window.wait(0.5) == 1.0
    assert window.wait(1.5) == 0

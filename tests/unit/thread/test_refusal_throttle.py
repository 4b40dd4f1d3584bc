"""The balance refusal is repeated to a user at most once per interval."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from actors.thread.refusal_throttle import (
    REFUSAL_INTERVAL_SECONDS,
    record_refusal,
    refusal_due,
)

times = st.floats(min_value=0, max_value=1e6, allow_nan=False)
gaps = st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=40)


def test_first_refusal_is_always_sent() -> None:
    """A user never refused before gets the refusal."""
    assert refusal_due(None, 0.0)


def test_refusal_within_ten_seconds_is_held_back() -> None:
    """9.9 s after the last refusal: silent; after 10 s: sent again."""
    assert not refusal_due(100.0, 109.9)
    assert refusal_due(100.0, 110.0)
    assert REFUSAL_INTERVAL_SECONDS == 10.0


@given(start=times, steps=gaps)
def test_sent_refusals_are_at_least_ten_seconds_apart(start: float, steps: list[float]) -> None:
    """Whatever the arrival times, refusals actually sent to one user are >= 10 s apart."""
    last: dict[int, float] = {}
    sent: list[float] = []
    now = start
    for step in steps:
        now += step
        if refusal_due(last.get(7), now):
            last = record_refusal(last, 7, now)
            sent.append(now)
    assert all(b - a >= REFUSAL_INTERVAL_SECONDS for a, b in itertools.pairwise(sent))
    if steps:
        assert sent, "the first refusal is always sent"


@given(now=times)
def test_users_are_throttled_separately_and_old_entries_dropped(now: float) -> None:
    """One user's refusal does not silence another's; expired entries are not kept."""
    last = record_refusal({1: now - 60.0}, 2, now)
    assert refusal_due(last.get(3), now)
    assert 1 not in last
    assert not refusal_due(last.get(2), now)

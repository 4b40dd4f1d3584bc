"""The active-users gauge: users charged within the last hour and day, and nothing older kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infra.billing.money_metrics import WINDOWS, ActiveUsers


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_users_leave_the_hour_then_the_day_and_are_forgotten() -> None:
    """A user charged once counts in both windows, then in the day only, then nowhere (and
    is no longer held); a repeat charge counts once."""
    clock = _Clock()
    users = ActiveUsers(clock)
    users.seen(5301)
    users.seen(5301)
    users.seen(7)
    assert users.counts() == {"1h": 2, "24h": 2}
    clock.now += 2 * 3600
    users.seen(7)
    assert users.counts() == {"1h": 1, "24h": 2}
    clock.now += 86400 + 1
    assert users.counts() == {"1h": 0, "24h": 0}
    assert len(users) == 0


@given(st.lists(st.tuples(st.integers(0, 50), st.floats(0, 200_000)), max_size=60))
def test_counts_are_the_distinct_users_seen_within_each_window(
    charges: list[tuple[int, float]],
) -> None:
    """Whatever the charges, each window counts the distinct users whose last charge is at
    most that old."""
    clock = _Clock()
    users = ActiveUsers(clock)
    start = clock.now
    last: dict[int, float] = {}
    for user, offset in sorted(charges, key=lambda c: c[1]):
        clock.now = start + offset
        users.seen(user)
        last[user] = clock.now
    counts = users.counts()
    for window, span in WINDOWS.items():
        assert counts[window] == sum(1 for at in last.values() if clock.now - at <= span)

"""The supervisor's restart decisions: backoff, reset after a stable run, crash-loop."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infra.services.restart_policy import ExitHistory, GiveUp, Restart, RestartPolicy

POLICY = RestartPolicy(max_exits=5, window=60.0, first_delay=0.5, max_delay=4.0, stable_after=30.0)


def test_backoff_doubles_up_to_the_cap_while_the_service_keeps_failing_fast() -> None:
    """Quick successive exits wait 0.5, 1, 2, 4, 4 ... seconds (spread out to avoid a loop)."""
    history = ExitHistory(POLICY)
    delays = []
    now = 0.0
    for _ in range(6):
        decision = history.on_exit("svc", started_at=now, now=now + 1.0)
        assert isinstance(decision, Restart)
        delays.append(decision.delay)
        now += 20.0  # outside the window's count, but each run short
        history.exits.clear()
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_run_that_was_stable_starts_the_backoff_over() -> None:
    """After running stable_after seconds, the next restart waits first_delay again."""
    history = ExitHistory(POLICY)
    assert history.on_exit("svc", started_at=0.0, now=1.0) == Restart(0.5)
    assert history.on_exit("svc", started_at=1.5, now=2.0) == Restart(1.0)
    assert history.on_exit("svc", started_at=100.0, now=200.0) == Restart(0.5)


def test_five_exits_within_a_minute_give_up_naming_the_service() -> None:
    """The fifth exit within the window stops the bot with a reason naming the service."""
    history = ExitHistory(POLICY)
    decisions = [history.on_exit("billing-worker", started_at=t, now=t + 0.1) for t in range(5)]
    assert all(isinstance(d, Restart) for d in decisions[:4])
    assert isinstance(decisions[4], GiveUp)
    assert "billing-worker" in decisions[4].reason


@given(st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=60))
def test_never_gives_up_unless_max_exits_fell_within_one_window(gaps: list[float]) -> None:
    """Give-up happens exactly when max_exits exits lie within one window."""
    history = ExitHistory(POLICY)
    times: list[float] = []
    now = 0.0
    for gap in gaps:
        now += gap
        times.append(now)
        decision = history.on_exit("svc", started_at=now, now=now)
        recent = [t for t in times if t > now - POLICY.window]
        if isinstance(decision, GiveUp):
            assert len(recent) >= POLICY.max_exits
            return
        assert len(recent) < POLICY.max_exits
        assert 0 < decision.delay <= POLICY.max_delay

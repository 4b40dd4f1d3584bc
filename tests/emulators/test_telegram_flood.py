"""Flood-control limiter of the Telegram emulator (pure, clock passed in)."""

from __future__ import annotations

from devkit.emulators.telegram.flood import FloodConfig, FloodLimiter

TOKEN = "1:x"


def test_private_chat_allows_a_burst_then_one_per_second() -> None:
    """A private chat takes `private_burst` messages at once, then refills at 1/s."""
    limiter = FloodLimiter(FloodConfig(private_burst=3))
    assert [limiter.check(TOKEN, 1, True, 0.0) for _ in range(3)] == [0, 0, 0]
    assert limiter.check(TOKEN, 1, True, 0.0) == 1
    assert limiter.check(TOKEN, 1, True, 1.0) == 0
    assert limiter.check(TOKEN, 1, True, 1.1) == 1
    assert limiter.check(TOKEN, 2, True, 1.1) == 0  # other chats are independent


def test_group_allows_twenty_per_minute() -> None:
    """A group takes 20 messages in a minute; the 21st waits until the oldest leaves."""
    limiter = FloodLimiter(FloodConfig())
    for i in range(20):
        assert limiter.check(TOKEN, -100, False, float(i)) == 0
    assert limiter.check(TOKEN, -100, False, 20.0) == 40
    assert limiter.check(TOKEN, -100, False, 60.5) == 0


def test_bot_wide_limit_and_cost() -> None:
    """All chats share the per-bot budget; an album costs one message per item."""
    limiter = FloodLimiter(FloodConfig(bot_per_second=5, private_burst=10))
    assert limiter.check(TOKEN, 1, True, 0.0, cost=4) == 0
    assert limiter.check(TOKEN, 2, True, 0.0, cost=2) == 1
    assert limiter.check(TOKEN, 2, True, 1.0, cost=2) == 0


def test_disabled_never_limits() -> None:
    """enabled=False turns flood control off."""
    limiter = FloodLimiter(FloodConfig(enabled=False))
    assert all(limiter.check(TOKEN, 1, True, 0.0) == 0 for _ in range(100))


def test_rejected_send_consumes_nothing() -> None:
    """A 429 answer does not use up budget: the next allowed moment is unchanged."""
    limiter = FloodLimiter(FloodConfig(private_burst=1))
    assert limiter.check(TOKEN, 1, True, 0.0) == 0
    for _ in range(5):
        assert limiter.check(TOKEN, 1, True, 0.5) == 1
    assert limiter.check(TOKEN, 1, True, 1.0) == 0

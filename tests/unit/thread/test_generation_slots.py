from __future__ import annotations

from infra.threads.generation_slots import GenerationSlots


async def test_slots_of_turns_that_never_finish_lapse_after_the_ttl() -> None:
    """Without Redis, a turn that never released its slot (cancelled by a revocation, say)
    stops counting after the TTL unless refreshed, and lapsed users are forgotten."""
    now = [0.0]
    slots = GenerationSlots(None, limit=2, ttl=10, clock=lambda: now[0])
    assert await slots.acquire(1, "a")
    assert await slots.acquire(1, "b")
    assert not await slots.acquire(1, "c")
    now[0] = 8.0
    await slots.refresh(1, "b")
    now[0] = 11.0
    assert slots.running_here(1) == 1  # "a" lapsed, "b" was refreshed
    assert await slots.acquire(1, "c")
    assert not await slots.acquire(1, "d")
    now[0] = 100.0
    slots.sweep()
    assert slots.running_here(1) == 0
    assert not slots._local
    assert not slots._expires

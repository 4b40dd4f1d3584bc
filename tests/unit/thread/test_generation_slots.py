from __future__ import annotations

import asyncio

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


async def test_a_queued_turn_takes_the_slot_a_release_frees() -> None:
    """A turn beyond the limit waits in line and gets the slot as soon as one is released."""
    slots = GenerationSlots(None, limit=1)
    assert await slots.acquire(1, "a")
    waiting = asyncio.create_task(slots.wait_for_slot(1, "b", max_wait=60, poll=60))
    await asyncio.sleep(0)
    assert not waiting.done()
    await slots.release(1, "a")
    assert await waiting
    assert slots.running_here(1) == 1


async def test_a_queued_turn_gives_up_after_its_wait_or_when_told() -> None:
    """No slot within max_wait, or give_up() true: the wait ends with False."""
    now = [0.0]
    slots = GenerationSlots(None, limit=1, clock=lambda: now[0])
    assert await slots.acquire(1, "a")
    assert not await slots.wait_for_slot(1, "b", max_wait=0)
    assert not await slots.wait_for_slot(1, "b", max_wait=60, give_up=lambda: True)
    assert slots.running_here(1) == 1

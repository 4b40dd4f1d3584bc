"""Start steps give way to a stop: ``unless_stopped`` and the daemon-thread imports."""

from __future__ import annotations

import asyncio
import threading

import pytest

from infra.services.lifecycle import Stopped, in_daemon_thread, unless_stopped


async def test_a_step_that_finishes_gives_its_result() -> None:
    """Without a stop, the step's result (or its error) comes through unchanged."""
    stop = asyncio.Event()

    async def step() -> int:
        return 7

    async def failing() -> int:
        raise ValueError("broken")

    assert await unless_stopped(stop, step()) == 7
    with pytest.raises(ValueError, match="broken"):
        await unless_stopped(stop, failing())


async def test_a_stop_cancels_the_step_and_waits_for_its_clean_up() -> None:
    """A stop set while the step waits cancels it, runs its clean-up, and raises Stopped."""
    stop = asyncio.Event()
    entered = asyncio.Event()
    cleaned = []

    async def step() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    async def stopper() -> None:
        await entered.wait()
        stop.set()

    helper = asyncio.ensure_future(stopper())
    with pytest.raises(Stopped):
        await unless_stopped(stop, step())
    await helper
    assert cleaned == [True]


async def test_a_stop_set_before_the_step_raises_at_once() -> None:
    """A stop already set gives the step no chance to run on."""
    stop = asyncio.Event()
    stop.set()
    ran = []

    async def step() -> None:
        await asyncio.sleep(0)
        ran.append(True)

    with pytest.raises(Stopped):
        await unless_stopped(stop, step())
    assert ran == []


async def test_work_in_a_daemon_thread_delivers_its_result_and_error() -> None:
    """The work runs in a daemon thread; its result and its error reach the awaiting side."""
    daemons: list[bool] = []

    def work() -> str:
        daemons.append(threading.current_thread().daemon)
        return "imported"

    def broken() -> str:
        raise ImportError("no such module")

    assert await in_daemon_thread(work) == "imported"
    assert daemons == [True]
    with pytest.raises(ImportError, match="no such module"):
        await in_daemon_thread(broken)

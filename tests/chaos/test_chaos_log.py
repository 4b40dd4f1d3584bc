"""The verifier's reads of the log keep a stray cancel of the Kafka client to themselves."""

from __future__ import annotations

import asyncio

import pytest
from chaos_log import ReadCancelled, isolated


async def _cancelled_by_itself() -> int:
    """What aiokafka's ``async_timeout`` leaves behind: a cancel of the running task that
    lands at its next ``await``, after the bounded request is over."""
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    await asyncio.sleep(0)
    return 1


async def test_a_cancel_the_client_leaves_pending_comes_out_as_a_broker_error() -> None:
    with pytest.raises(ReadCancelled):
        await isolated(_cancelled_by_itself(), 5.0)
    assert await isolated(asyncio.sleep(0, result=7), 5.0) == 7  # the caller goes on


async def test_a_read_with_no_answer_gives_up_after_its_timeout() -> None:
    read = asyncio.ensure_future(asyncio.sleep(60))
    with pytest.raises(TimeoutError):
        await isolated(read, 0.05)
    assert read.cancelled()


async def test_a_cancel_of_the_caller_cancels_the_read_too() -> None:
    read = asyncio.ensure_future(asyncio.sleep(60))
    caller = asyncio.ensure_future(isolated(read, 60.0))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0)
    assert read.cancelled()

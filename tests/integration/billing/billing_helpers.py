"""Helpers shared by the billing integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime


async def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll a condition (cheap, in-process) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at

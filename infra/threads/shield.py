"""Finishing a durable step even when the task running it is cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any


async def shielded(awaitable: Awaitable[Any]) -> Any:
    """Run to completion even if the caller is cancelled meanwhile (then re-raise)."""
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


async def stopped(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended (a request it was making included), so
    that nothing it does lands after what the caller does next."""
    task.cancel()
    await asyncio.wait([task])

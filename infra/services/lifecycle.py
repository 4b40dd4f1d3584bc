"""Running a service until SIGTERM or SIGINT, from the first moment of its start."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """The stop event was set while a start step was still under way."""


def stop_event_on_signals() -> asyncio.Event:
    """An event set by the first SIGTERM or SIGINT (install it before anything slow: a signal
    that comes before it kills the process with no clean-up)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def unless_stopped(stop: asyncio.Event, step: Awaitable[T]) -> T:
    """``step``'s result; when ``stop`` is set first, ``step`` is cancelled (and its clean-up
    awaited) and :class:`Stopped` raised: a start step a SIGTERM must not wait for (a broker
    wait, the imports)."""
    task = asyncio.ensure_future(step)
    if not stop.is_set():
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this start itself cancelled
            task.cancel()
            raise
        finally:
            stopping.cancel()
        if task.done():
            return task.result()
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved: a step failing as it is cancelled is no news
    raise Stopped


def in_daemon_thread(work: Callable[[], T]) -> asyncio.Future[T]:
    """``work()`` run in a daemon thread: unlike ``asyncio.to_thread``, a process stopped
    meanwhile exits without waiting for it (``asyncio.run`` joins its default executor)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(settle: Callable[[], None]) -> None:
        if not future.done():
            settle()

    def run() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting side
            error = exc
            outcome = lambda: future.set_exception(error)  # noqa: E731
        else:
            outcome = lambda: future.set_result(result)  # noqa: E731
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(deliver, outcome)

    threading.Thread(target=run, name="start-imports", daemon=True).start()
    return future

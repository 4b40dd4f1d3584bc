"""Stopping the bot's child processes from async tests without freezing the emulators.

The emulators serve from the tests' own event loop. A blocking ``Popen.wait`` there freezes
them, so a service that talks to Telegram while it stops (the gateway confirms its last
updates with one more ``getUpdates``) waits on an emulator that cannot answer until the
wait times out and kills it. These helpers wait with ``asyncio.sleep`` instead."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterable
from typing import Protocol


class ChildProcess(Protocol):
    """What the tests use of a child process (:class:`subprocess.Popen` has it)."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


STOP_GRACE = 20.0
"""Seconds a process gets to exit after SIGTERM before it is killed."""


async def wait_exit(proc: ChildProcess, timeout: float) -> bool:
    """Whether ``proc`` exited within ``timeout`` seconds (the event loop keeps running)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while proc.poll() is None:
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def stop_processes(procs: Iterable[ChildProcess], grace: float = STOP_GRACE) -> None:
    """SIGTERM every running process at once, then wait for each; one still running after
    ``grace`` seconds is killed."""
    running = [p for p in procs if p.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    for proc in running:
        if not await wait_exit(proc, grace):
            proc.kill()
            await wait_exit(proc, 10.0)


async def stop_process(proc: ChildProcess | None, grace: float = STOP_GRACE) -> None:
    """:func:`stop_processes` for one process (``None``: never started)."""
    if proc is not None:
        await stop_processes([proc], grace)

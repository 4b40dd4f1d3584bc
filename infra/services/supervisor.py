"""Running several ``botctl`` services as child processes and stopping them together.

``botctl run`` uses it: every service runs in its own process, exactly as in production,
with the endpoints passed through the environment. When one child exits, or on SIGTERM/SIGINT,
all children get SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChildSpec:
    name: str
    argv: Sequence[str]


def botctl_child(name: str, *args: str) -> ChildSpec:
    return ChildSpec(name, [sys.executable, "-m", "infra.cli.main", *args])


async def supervise(
    children: Sequence[ChildSpec],
    env: Mapping[str, str],
    stop: asyncio.Event,
    *,
    grace: float = 15.0,
) -> int:
    """Run ``children`` until one exits or ``stop`` is set; answers the first non-zero code."""
    procs: dict[str, asyncio.subprocess.Process] = {}
    for child in children:
        procs[child.name] = await asyncio.create_subprocess_exec(
            *child.argv, env=dict(env), start_new_session=True
        )
        log.info("started", extra={"fields": {"service": child.name, "pid": procs[child.name].pid}})
    waits = {asyncio.ensure_future(p.wait()): name for name, p in procs.items()}
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait([*waits, stopper], return_when=asyncio.FIRST_COMPLETED)
    exit_code = 0
    for fut in done:
        if fut in waits:
            code = fut.result()
            log.error("service exited", extra={"fields": {"service": waits[fut], "code": code}})
            exit_code = exit_code or code or 1
    for proc in procs.values():
        if proc.returncode is None:
            _signal(proc, signal.SIGTERM)
    try:
        async with asyncio.timeout(grace):
            await asyncio.gather(*(p.wait() for p in procs.values()))
    except TimeoutError:
        for proc in procs.values():
            if proc.returncode is None:
                _signal(proc, signal.SIGKILL)
        await asyncio.gather(*(p.wait() for p in procs.values()))
    stopper.cancel()
    return exit_code


def _signal(proc: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)

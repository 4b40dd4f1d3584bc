"""The bot's services as child processes of the demo, their output in log files."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from infra.services.supervisor import botctl_argv


class Children:
    def __init__(self) -> None:
        self.procs: dict[str, asyncio.subprocess.Process] = {}

    async def start(self, services: Sequence[str], env: Mapping[str, str], log_dir: Path) -> None:
        await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)
        for name in services:
            with (log_dir / f"{name}.log").open("ab") as log:
                self.procs[name] = await asyncio.create_subprocess_exec(
                    *botctl_argv(name),
                    env=dict(env),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.procs.items() if p.returncode is not None}

    async def stop(self, grace: float = 10.0) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await asyncio.gather(*(p.wait() for p in self.procs.values()))
        except TimeoutError:
            for proc in self.procs.values():
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
            await asyncio.gather(*(p.wait() for p in self.procs.values()))

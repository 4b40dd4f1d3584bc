"""Stop one dependency of an embedded stack and start it again exactly as it was.

For tests of what a service does while its PostgreSQL, Redis or broker is gone: on a stack
of the test's own (never the session's shared one), :func:`stop_dependency` stops the
process the way an outage looks (PostgreSQL by its fast shutdown, Redis terminated, the
broker killed outright) and :func:`start_dependency` relaunches it on the same port and
data, returning once it answers its health check again.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from infra.stack import binaries, health
from infra.stack.embedded import HOST, EmbeddedStack, ServiceState, StackState, pg_user
from infra.stack.processes import spawn, start_ticks, stop

STOP_SIGNAL = {"kafka": signal.SIGKILL, "postgres": signal.SIGINT, "redis": signal.SIGTERM}
"""How each dependency is stopped: the broker killed outright (its log must survive a
crash), PostgreSQL by its fast shutdown, Redis (a cache without persistence) terminated."""

CHECKS: dict[str, Callable[[str], Awaitable[str]]] = {
    "kafka": health.kafka_coordinator_ready,
    "postgres": health.postgres_ready,
    "redis": health.redis_ready,
}


@dataclass(frozen=True)
class Relaunch:
    """What it takes to start a stopped dependency again exactly as it was."""

    argv: list[str]
    cwd: str
    user: str | None


def relaunch_of(service: ServiceState, state_dir: Path) -> Relaunch:
    """How to start ``service`` again (read from its running process)."""
    pid = service.process.pid
    cwd = os.readlink(f"/proc/{pid}/cwd")
    if service.name == "redis":  # redis rewrites its command line (proctitle): rebuild it
        port = service.url.rsplit(":", 1)[1].split("/")[0]
        argv = [str(binaries.redis_server_binary()), "--bind", HOST, "--port", port]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(state_dir)]
        return Relaunch(argv, cwd, None)
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    return Relaunch(argv, cwd, pg_user() if service.name == "postgres" else None)


async def stop_dependency(stack: EmbeddedStack, state: StackState, name: str) -> Relaunch:
    """Stop the dependency ``name`` of ``state``; answers how to start it again."""
    service = state.services[name]
    relaunch = relaunch_of(service, stack.state_dir)
    await asyncio.to_thread(stop, service.process, sig=STOP_SIGNAL[name], grace=30.0)
    return relaunch


async def start_dependency(
    stack: EmbeddedStack, state: StackState, name: str, relaunch: Relaunch, *, wait: float = 90.0
) -> None:
    """Start ``name`` again as ``relaunch`` says (recorded in ``state`` and the stack's state
    file, so the stack's own stop and reset find it); returns once it is healthy (raises
    TimeoutError when it is not within ``wait`` seconds)."""
    service = state.services[name]
    record = await asyncio.to_thread(
        spawn,
        name,
        relaunch.argv,
        Path(service.process.log_path),
        user=relaunch.user,
        cwd=Path(relaunch.cwd),
    )
    state.services[name] = replace(service, process=record)
    stack.state_path.write_text(state.to_json())
    await health.wait_until(
        lambda: CHECKS[name](service.url),
        wait,
        still_running=lambda: start_ticks(record.pid) == record.start_ticks,
    )

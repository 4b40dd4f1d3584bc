"""Running several ``botctl`` services as child processes, restarting the ones that fail.

``botctl run`` uses it: every service runs in its own process, exactly as in production,
with the endpoints passed through the environment. A ``botctl`` child is a fork of the fork
server (:mod:`infra.services.forkserver`: the libraries are imported once, so a first start
and every restart skip seconds of imports); any other command line is started as it is.

A service that exits on its own (a crash, an OOM kill, any exit not asked for) is logged
with its exit code and started again after a backoff (``restart_policy``); one that keeps
exiting stops the whole bot with a message naming it. On SIGTERM/SIGINT (``stop``) every
child gets SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from infra.services.forkserver import fork_botctl, is_botctl
from infra.services.restart_policy import ExitHistory, GiveUp, RestartPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChildSpec:
    name: str
    argv: Sequence[str]


def botctl_argv(*args: str) -> list[str]:
    """The command line of ``botctl ARGS...`` with this interpreter (``botctl <service>`` is
    the one way to start a service: the supervisor, the demo, tests and benchmarks use it)."""
    return [sys.executable, "-m", "infra.cli.main", *args]


def botctl_child(name: str, *args: str) -> ChildSpec:
    return ChildSpec(name, botctl_argv(*args))


class Supervised(Protocol):
    """A running child, as the supervisor sees it."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def exited(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _Executed:
    """A child started from its command line."""

    proc: asyncio.subprocess.Process

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    async def exited(self) -> int:
        return await self.proc.wait()


async def _launch(child: ChildSpec, env: Mapping[str, str]) -> Supervised:
    """``child`` running in a session of its own: forked when it is ``botctl``."""
    if is_botctl(child.argv):
        # in a thread: the first fork waits while the fork server imports
        return await asyncio.to_thread(fork_botctl, child.argv, env, new_session=True)
    proc = await asyncio.create_subprocess_exec(*child.argv, env=dict(env), start_new_session=True)
    return _Executed(proc)


@dataclass(slots=True)
class _Run:
    """What the children share: their live processes and why the bot is stopping."""

    env: Mapping[str, str]
    stop: asyncio.Event
    policy: RestartPolicy
    clock: Callable[[], float]
    procs: dict[str, Supervised]
    failure: str | None = None

    @property
    def ending(self) -> bool:
        return self.stop.is_set() or self.failure is not None


async def supervise(
    children: Sequence[ChildSpec],
    env: Mapping[str, str],
    stop: asyncio.Event,
    *,
    grace: float = 15.0,
    policy: RestartPolicy | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run ``children``, restarting failed ones, until ``stop`` is set (answers 0) or one
    of them crash-loops (answers 1, after stopping the others)."""
    run = _Run(env, stop, policy or RestartPolicy(), clock, {})
    keepers = [asyncio.create_task(_keep_running(run, child)) for child in children]
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stopper, *keepers], return_when=asyncio.FIRST_COMPLETED)
    stop.set()  # a crash loop ends the others too
    await asyncio.gather(*keepers)
    stopper.cancel()
    await _terminate(list(run.procs.values()), grace)
    return 1 if run.failure is not None else 0


async def _keep_running(run: _Run, child: ChildSpec) -> None:
    history = ExitHistory(run.policy)
    while not run.ending:
        started = run.clock()
        proc = await _launch(child, run.env)
        run.procs[child.name] = proc
        log.info("started", extra={"fields": {"service": child.name, "pid": proc.pid}})
        code = await _exit_code_unless_stopped(proc, run.stop)
        if code is None or run.ending:
            return
        decision = history.on_exit(child.name, started_at=started, now=run.clock())
        fields = {"service": child.name, "code": code}
        if isinstance(decision, GiveUp):
            log.error(decision.reason, extra={"fields": fields})
            print(f"botctl: {decision.reason} (last exit code {code})", file=sys.stderr)
            run.failure = decision.reason
            return
        log.warning(
            "service exited; restarting",
            extra={"fields": {**fields, "restart_in_s": decision.delay}},
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(decision.delay):
                await run.stop.wait()


async def _exit_code_unless_stopped(proc: Supervised, stop: asyncio.Event) -> int | None:
    exited = asyncio.ensure_future(proc.exited())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([exited, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if exited.done():
        return exited.result()
    exited.cancel()
    return None


async def _terminate(procs: list[Supervised], grace: float) -> None:
    for proc in procs:
        if proc.returncode is None:
            _signal(proc, signal.SIGTERM)
    try:
        async with asyncio.timeout(grace):
            await asyncio.gather(*(p.exited() for p in procs))
    except TimeoutError:
        for proc in procs:
            if proc.returncode is None:
                _signal(proc, signal.SIGKILL)
        await asyncio.gather(*(p.exited() for p in procs))


def _signal(proc: Supervised, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)

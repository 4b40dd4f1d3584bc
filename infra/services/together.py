"""Running several services as tasks of one process, restarting the ones that fail.

``botctl run --processes one`` (the embedded default) uses it: the services share one
process and one composition root, so a service cannot be restarted by starting its process
again. Instead a service task that raises (or returns while the bot is not stopping) is logged
with its error and started again, in the same process, after the backoff of
``restart_policy``, exactly as the child-process supervisor does for a process that exits. A
service that keeps failing (``max_exits`` times within ``window`` seconds) stops the whole bot
with a message naming it. When ``stop`` is set (SIGTERM, SIGINT) every service is asked to end
through it, and a service still running after ``grace`` seconds is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from infra.services.restart_policy import ExitHistory, GiveUp, RestartPolicy

log = logging.getLogger(__name__)

ServiceRun = Callable[[], Awaitable[None]]
"""One run of a service: returns when the shared stop event is set, raises when it fails."""


@dataclass(slots=True)
class _Together:
    stop: asyncio.Event
    policy: RestartPolicy
    clock: Callable[[], float]
    failure: str | None = None


async def run_services_together(
    services: Mapping[str, ServiceRun],
    stop: asyncio.Event,
    *,
    grace: float = 30.0,
    policy: RestartPolicy | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run every service of ``services`` as a task, restarting failed ones, until ``stop`` is
    set (answers 0) or one of them fails too often (answers 1, after stopping the others)."""
    run = _Together(stop, policy or RestartPolicy(), clock)
    keepers = {
        asyncio.create_task(_keep_running(run, name, start), name=f"service {name}"): name
        for name, start in services.items()
    }
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stopper, *keepers], return_when=asyncio.FIRST_COMPLETED)
    stop.set()  # a crash loop ends the others too
    _, late = await asyncio.wait(keepers, timeout=grace)
    for task in late:
        log.warning("service did not stop in time; cancelled", extra=_fields(keepers[task]))
        task.cancel()
    await asyncio.gather(*keepers, return_exceptions=True)
    stopper.cancel()
    return 1 if run.failure is not None else 0


async def _keep_running(run: _Together, name: str, start: ServiceRun) -> None:
    history = ExitHistory(run.policy)
    while not run.stop.is_set():
        started = run.clock()
        exc = await _one_run(start)
        error = _describe(exc)
        if run.stop.is_set():
            if exc is not None:
                log.warning("service failed while stopping", extra=_fields(name, error))
            return
        decision = history.on_exit(name, started_at=started, now=run.clock())
        if isinstance(decision, GiveUp):
            log.error(decision.reason, extra=_fields(name, error), exc_info=exc)
            print(f"botctl: {decision.reason} (last error: {error})", file=sys.stderr)
            run.failure = decision.reason
            return
        log.warning(
            "service failed; restarting",
            extra=_fields(name, error, restart_in_s=decision.delay),
            exc_info=exc,
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(decision.delay):
                await run.stop.wait()


async def _one_run(start: ServiceRun) -> Exception | None:
    """Run the service once; its error, or None if it returned."""
    try:
        await start()
    except Exception as exc:  # any failure of a service is logged and restarted
        return exc
    return None


def _describe(exc: Exception | None) -> str:
    if exc is None:
        return "returned before the bot was stopped"
    return f"{type(exc).__name__}: {exc}"[:500]


def _fields(name: str, error: str | None = None, **more: float) -> dict[str, object]:
    fields: dict[str, object] = {"service": name, **more}
    if error is not None:
        fields["error"] = error
    return {"fields": fields}

"""Readiness of a service's dependencies: each one it uses, probed every few seconds.

A service process registers the dependencies it actually uses: the root does it for the
broker, its PostgreSQL pool and its Redis client (:class:`infra.bootstrap.Root`), a service
with clients of its own registers those. One task on the service's event loop probes them
all, each with a timeout, and keeps one readiness condition per dependency
(:class:`infra.service_health.Readiness`): pending with the reason while the probe fails,
met once it answers again. A loss and a recovery are each logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from infra.service_health import Readiness

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[object]]
"""Raises (or does not answer in time) while the dependency cannot serve the process."""

PROBE_EVERY: Final = 2.0
"""Seconds between two rounds of probes."""
PROBE_TIMEOUT: Final = 3.0
"""Seconds a probe may take before its dependency counts as unreachable."""


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    return str(exc) or type(exc).__name__


class DependencyWatch:
    """Probes the registered dependencies and reports them in ``readiness``."""

    def __init__(
        self, readiness: Readiness, *, every: float = PROBE_EVERY, timeout: float = PROBE_TIMEOUT
    ) -> None:
        self.readiness = readiness
        self._every = every
        self._timeout = timeout
        self._probes: dict[str, Probe] = {}
        self._down: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def watch(self, name: str, probe: Probe) -> None:
        """Probe ``name`` from now on; it is pending until its first probe answers. Called
        from the event loop (the probing task starts with the first dependency)."""
        self._probes[name] = probe
        self.readiness.require(name, "not probed yet")
        if self._task is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # outside the loop: the next call from the loop starts it
                return
            self._task = loop.create_task(self._run(), name="readiness")

    async def probe_all(self) -> None:
        """One round: every dependency probed, concurrently."""
        await asyncio.gather(*(self._probe(n, p) for n, p in list(self._probes.items())))

    async def _probe(self, name: str, probe: Probe) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await probe()
        except Exception as exc:  # whatever the client raises, the dependency is not usable
            why = f"{name} unreachable: {_describe(exc, self._timeout)}"
            if name not in self._down:
                self._down.add(name)
                log.warning("dependency lost: not ready", extra={"fields": {"reason": why}})
            self.readiness.require(name, why)
            return
        if name in self._down:
            self._down.discard(name)
            log.info("dependency back: ready again", extra={"fields": {"dependency": name}})
        self.readiness.met(name)

    async def _run(self) -> None:
        while True:
            await self.probe_all()
            await asyncio.sleep(self._every)

    async def close(self) -> None:
        """Stop probing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

"""Services as tasks of one process (``botctl run --processes one``): restarts, crash loops,
a clean stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from devkit.harness.topics import eventually
from infra.services.restart_policy import RestartPolicy
from infra.services.together import run_services_together

FAST = RestartPolicy(max_exits=5, window=60.0, first_delay=0.05, max_delay=0.2, stable_after=30.0)


class Service:
    """A service run that counts its starts, fails its first ``failures`` runs, and otherwise
    runs until ``stop`` is set, recording that it cleaned up."""

    def __init__(self, stop: asyncio.Event, failures: int = 0) -> None:
        self.stop = stop
        self.failures = failures
        self.starts = 0
        self.cleaned_up = 0

    async def __call__(self) -> None:
        self.starts += 1
        try:
            if self.starts <= self.failures:
                await asyncio.sleep(0)
                raise ConnectionError(f"broken start {self.starts}")
            await self.stop.wait()
        finally:
            self.cleaned_up += 1


async def test_a_failed_service_task_is_restarted_and_the_others_keep_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A service task that raises is started again in the same process, each restart logged
    with the service and the error; its sibling runs on untouched; stop ends both, cleanly."""
    stop = asyncio.Event()
    flaky, steady = Service(stop, failures=2), Service(stop)
    caplog.set_level(logging.WARNING, logger="infra.services.together")
    task = asyncio.create_task(
        run_services_together({"flaky": flaky, "steady": steady}, stop, policy=FAST)
    )
    await eventually(lambda: flaky.starts == 3, timeout=30)
    assert not task.done()
    stop.set()
    assert await asyncio.wait_for(task, 30) == 0
    assert (steady.starts, steady.cleaned_up) == (1, 1)
    assert flaky.cleaned_up == 3
    restarts = [r for r in caplog.records if r.getMessage() == "service failed; restarting"]
    assert [r.fields["service"] for r in restarts] == ["flaky", "flaky"]  # type: ignore[attr-defined]
    assert restarts[0].fields["error"] == "ConnectionError: broken start 1"  # type: ignore[attr-defined]


async def test_a_service_returning_on_its_own_is_restarted() -> None:
    """A service whose run returns while the bot is not stopping counts as failed: restarted."""
    stop = asyncio.Event()
    runs = 0

    async def quits_once() -> None:
        nonlocal runs
        runs += 1
        if runs > 1:
            await stop.wait()

    task = asyncio.create_task(run_services_together({"quits": quits_once}, stop, policy=FAST))
    await eventually(lambda: runs == 2, timeout=30)
    stop.set()
    assert await asyncio.wait_for(task, 30) == 0


async def test_a_crash_looping_service_task_stops_the_bot_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Five failures within a minute: every other service is stopped (cleanly, through the
    stop event), a message names the service and its last error, and the answer is 1."""
    stop = asyncio.Event()
    broken, steady = Service(stop, failures=1000), Service(stop)
    code = await asyncio.wait_for(
        run_services_together({"broken": broken, "steady": steady}, stop, policy=FAST), 60
    )
    assert code == 1
    assert broken.starts == 5
    assert stop.is_set()
    assert steady.cleaned_up == 1
    err = capsys.readouterr().err
    assert "service broken exited 5 times within 60 s; stopping the bot" in err
    assert "last error: ConnectionError: broken start 5" in err


async def test_a_service_ignoring_stop_is_cancelled_after_the_grace() -> None:
    """On stop, a service still running after the grace period is cancelled, so the bot
    always ends."""
    stop = asyncio.Event()
    cancelled = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = asyncio.create_task(
        run_services_together({"stubborn": stubborn}, stop, grace=0.1, policy=FAST)
    )
    await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(task, 30) == 0
    assert cancelled.is_set()

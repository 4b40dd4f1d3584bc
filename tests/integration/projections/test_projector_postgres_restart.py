"""PostgreSQL restarted while a projector runs: it waits, catches up, and loses nothing.

Uses a private PostgreSQL (same binaries as the embedded stack, own data directory) so the
shared test database is never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from projection_helpers import create_topics, expected_counts, produce, wait_positions

from devkit.scenario import Scenario
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.projector.runner import run_projector
from infra.projector.verify import verify
from infra.settings import load_settings
from infra.stack import binaries, health
from infra.stack.embedded import HOST, EmbeddedStack, ServiceState, pg_user
from infra.stack.processes import ProcessRecord, is_alive, spawn, stop


def _respawn(service: ServiceState, port: int, log: Path) -> ProcessRecord:
    user = pg_user()
    bindir = binaries.postgres_bin_dir(for_other_user=user is not None)
    assert service.data_dir is not None
    argv = [str(bindir / "postgres"), "-D", service.data_dir, "-h", HOST, "-p", str(port)]
    argv += ["-k", service.data_dir, "-c", "fsync=off"]
    return spawn("postgres", argv, log, user=user)


@pytest_asyncio.fixture(loop_scope="session")
async def private_pg(tmp_path: Path) -> AsyncIterator[dict[str, object]]:
    """A PostgreSQL of this test only, with a handle to stop and restart it."""
    service = await EmbeddedStack(tmp_path)._start_postgres()
    state: dict[str, object] = {"service": service, "record": service.process}
    yield state
    record = state["record"]
    assert isinstance(record, ProcessRecord)
    stop(record, sig=signal.SIGINT, grace=15.0)
    if service.data_dir:
        shutil.rmtree(service.data_dir, ignore_errors=True)


async def test_postgres_restart_during_projection_loses_nothing(
    stack: Endpoints, broker_profile: BrokerProfile, private_pg: dict[str, object]
) -> None:
    """Stop PostgreSQL mid-stream, produce more, restart it: every record ends up applied."""
    service = private_pg["service"]
    assert isinstance(service, ServiceState)
    endpoints = Endpoints(stack.kafka_bootstrap, service.url, stack.redis_url, embedded=True)
    port = int(service.url.rsplit(":", 1)[1].split("/")[0])
    prefix = f"r{uuid.uuid4().hex[:8]}."
    schema = "projections"
    await create_topics(stack, prefix)
    scenario = Scenario(5, users=20)
    first = list(scenario.records(600))
    await produce(stack, broker_profile, prefix, first)
    halt = asyncio.Event()
    task = asyncio.create_task(
        run_projector(
            Root(load_settings(), endpoints, profile=broker_profile),
            halt,
            topic_prefix=prefix,
            schema=schema,
            use_redis=False,
        )
    )
    try:
        await wait_positions(endpoints, schema, expected_counts(first))
        stop(service.process, sig=signal.SIGINT, grace=15.0)
        second = list(scenario.records(600))
        await produce(stack, broker_profile, prefix, second)
        await asyncio.sleep(2)  # the projector fails its batches meanwhile and keeps retrying
        assert not task.done()
        record = _respawn(service, port, Path(service.process.log_path))
        private_pg["record"] = record
        await health.wait_until(
            lambda: health.postgres_ready(service.url),
            30.0,
            still_running=lambda: is_alive(record),
        )
        await wait_positions(endpoints, schema, expected_counts(first + second), timeout=120)
    finally:
        halt.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
    report = await verify(endpoints, schema=schema, topic_prefix=prefix, profile=broker_profile)
    assert report.ok, report.summary()

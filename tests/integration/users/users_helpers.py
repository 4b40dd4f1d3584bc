"""Helpers for the users actor tests: run a worker (reading topics: devkit.harness.topics)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.users.worker import UsersWorker


@contextlib.asynccontextmanager
async def running_worker(
    stack: Endpoints, profile: BrokerProfile, prefix: str
) -> AsyncIterator[UsersWorker]:
    worker = UsersWorker(stack.kafka_bootstrap, profile, topic_prefix=prefix)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        ready = asyncio.create_task(worker.ready.wait())
        done, _ = await asyncio.wait({ready, task}, timeout=60, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()
        assert ready in done, "users worker not ready in 60 s"
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

"""Helpers for the users actor tests: read a topic from the start, run a worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import TopicPartition

from events.catalog import TopicSpec, with_prefix
from events.codec import codec_for
from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile
from infra.users.worker import UsersWorker


async def read_topic(
    stack: Endpoints,
    profile: BrokerProfile,
    prefix: str,
    spec: TopicSpec[Any],
    *,
    count: int,
    timeout: float = 30.0,
    settle: float = 0.0,
) -> list[Any]:
    """At least ``count`` decoded records (up to ``timeout``), then ``settle`` s more."""
    name = with_prefix(spec, prefix).name
    consumer = make_consumer(stack.kafka_bootstrap, profile, [], group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(name, p) for p in range(spec.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        codec = codec_for(spec)
        out: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settle_until: float | None = None
        while loop.time() < deadline:
            if len(out) >= count and settle_until is None:
                settle_until = loop.time() + settle
            if settle_until is not None and loop.time() >= settle_until:
                break
            for records in (await consumer.getmany(timeout_ms=100)).values():
                out.extend(codec.decode(r.value, r.headers) for r in records)
        return out
    finally:
        await consumer.stop()


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

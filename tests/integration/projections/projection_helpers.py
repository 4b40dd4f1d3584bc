"""Shared helpers of the projection integration tests: topics, producing, waiting."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from events.catalog import TOPICS
from events.codec import codec_for
from events.envelope import Envelope
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_admin import ensure_topics
from infra.postgres import quote_schema
from infra.projector.runner import run_projector
from infra.projector.verify import checksums
from infra.settings import load_settings
from projections.tables import TABLES


async def create_topics(stack: Endpoints, prefix: str) -> None:
    report = await ensure_topics(stack.kafka_bootstrap, TOPICS, name_prefix=prefix)
    assert report.ok, report.mismatches


async def produce(
    stack: Endpoints,
    profile: BrokerProfile,
    prefix: str,
    items: Iterable[tuple[Any, Envelope]],
    producer: AIOKafkaProducer | None = None,
) -> int:
    """Produce records (in order per key) and wait for every ack; answers the count."""
    own = producer is None
    if producer is None:
        producer = make_producer(stack.kafka_bootstrap, profile)
        await producer.start()
    try:
        futures = []
        for spec, record in items:
            key, value, headers = codec_for(spec).encode(record)
            futures.append(await producer.send(prefix + spec.name, value, key=key, headers=headers))
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        if own:
            await producer.stop()


async def applied_records(conn: asyncpg.Connection, schema: str, projection: str) -> int:
    value = await conn.fetchval(
        f"SELECT coalesce(sum(next_offset), 0) FROM {quote_schema(schema)}.projection_positions "
        "WHERE projection = $1",
        projection,
    )
    return int(value)


async def wait_positions(
    stack: Endpoints, schema: str, expected: dict[str, int], timeout: float = 90.0
) -> None:
    """Wait until each projection's positions add up to the expected record count."""
    deadline = time.monotonic() + timeout
    conn = await asyncpg.connect(stack.database_url)
    try:
        while True:
            try:
                got = {p: await applied_records(conn, schema, p) for p in expected}
            except asyncpg.UndefinedTableError:  # not migrated yet
                got = {}
            if got == expected:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"positions {got}, expected {expected}")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def expected_counts(items: list[tuple[Any, Envelope]]) -> dict[str, int]:
    """Records each projection consumes, by topic membership."""
    from projections.catalog import PROJECTIONS

    out = {}
    for name, p in PROJECTIONS.items():
        names = {t.name for t in p.topics}
        out[name] = sum(1 for spec, _ in items if spec.name in names)
    return out


async def table_sums(stack: Endpoints, schema: str) -> dict[str, tuple[int, str]]:
    conn = await asyncpg.connect(stack.database_url)
    try:
        return await checksums(conn, schema, list(TABLES.values()))
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def projecting(
    stack: Endpoints,
    profile: BrokerProfile,
    prefix: str,
    schema: str,
    items: list[tuple[Any, Envelope]],
    **options: Any,
) -> AsyncIterator[tuple[asyncio.Event, asyncio.Task[None]]]:
    """A projector on the ``prefix`` topics into ``schema`` (cache keys ``<schema>:`` unless
    ``options`` say otherwise), entered once it has applied ``items``; stopped at exit.
    Yields its stop event and task."""
    options.setdefault("cache_prefix", f"{schema}:")
    stop = asyncio.Event()
    root = Root(load_settings(), stack, profile=profile)
    task = asyncio.create_task(
        run_projector(root, stop, topic_prefix=prefix, schema=schema, **options)
    )
    try:
        await wait_positions(stack, schema, expected_counts(items))
        yield stop, task
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)

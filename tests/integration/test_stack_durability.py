"""The embedded stack keeps its data: across `stack down`/`stack up` and a kill -9 of the broker.

These tests start a stack of their own (not the session's), since they stop and kill it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from infra.kafka.clients import make_admin, make_consumer, make_producer
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.stack.embedded import EmbeddedStack, StackState, pg_data_dir, pg_user
from infra.stack.processes import is_alive, stop

pytestmark = pytest.mark.skipif(
    os.environ.get("EMBEDDED_BROKER") == "tansu",
    reason="Tansu keeps its log in memory by design; durability is Apache Kafka's",
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def private_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedStack]:
    """A whole embedded stack of this module only, deleted afterwards."""
    stack = EmbeddedStack(tmp_path_factory.mktemp("durable"))
    try:
        await stack.start()
        yield stack
    finally:
        stack.reset()


async def _profile(state: StackState) -> BrokerProfile:
    return await probe_broker(state.kafka_bootstrap)


async def _produce(state: StackState, topic: str, values: list[str]) -> None:
    profile = await _profile(state)
    admin = make_admin(state.kafka_bootstrap)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            await admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        await admin.close()
    producer = make_producer(state.kafka_bootstrap, profile)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value.encode(), key=value.encode())
    finally:
        await producer.stop()


async def _read_all(state: StackState, topic: str) -> list[str]:
    """Every value in the topic, partition by partition, from the beginning to the end."""
    consumer = make_consumer(state.kafka_bootstrap, await _profile(state), [], group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(2)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen: list[str] = []
        async with asyncio.timeout(60):
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    seen.extend(r.value.decode() for r in records if r.value is not None)
        return sorted(seen)
    finally:
        await consumer.stop()


async def _pg(state: StackState, sql: str) -> object:
    conn = await asyncpg.connect(state.database_url)
    try:
        if ";" in sql:
            await conn.execute(sql)
            return None
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_the_broker_logs_its_gc_pauses_beside_its_data(private_stack: EmbeddedStack) -> None:
    """The embedded broker writes its GC log to ``<state>/kafka/gc.log`` (the collector named
    at its start, a line per pause after), where a latency spike is matched with a pause."""
    await private_stack.start()
    log = private_stack.state_dir / "kafka" / "gc.log"
    assert "Using Serial" in log.read_text()


async def test_down_and_up_keep_the_log_and_the_database(private_stack: EmbeddedStack) -> None:
    """After `stack down` and `stack up`, records and rows are there, nothing re-initialised."""
    state = await private_stack.start()
    await _produce(state, "durable.down", ["a", "b", "c"])
    await _pg(state, "CREATE TABLE IF NOT EXISTS kept (v text); INSERT INTO kept VALUES ('row')")
    cluster_id = (private_stack.state_dir / "kafka" / "cluster.id").read_text()
    meta = private_stack.state_dir / "kafka" / "data" / "meta.properties"
    meta_written = meta.stat().st_mtime_ns
    pg_dir = pg_data_dir(private_stack.state_dir, pg_user())
    pg_made = (pg_dir / "PG_VERSION").stat().st_mtime_ns

    assert sorted(private_stack.stop()) == ["kafka", "postgres", "redis"]
    assert not any(is_alive(s.process) for s in state.services.values())
    again = await private_stack.start()

    assert await _read_all(again, "durable.down") == ["a", "b", "c"]
    assert await _pg(again, "SELECT string_agg(v, ',') FROM kept") == "row"
    assert (private_stack.state_dir / "kafka" / "cluster.id").read_text() == cluster_id
    assert meta.stat().st_mtime_ns == meta_written
    assert (pg_dir / "PG_VERSION").stat().st_mtime_ns == pg_made


async def test_broker_killed_hard_loses_no_acknowledged_record(
    private_stack: EmbeddedStack,
) -> None:
    """kill -9 of the broker, then `stack up`: every acknowledged record is still there."""
    state = await private_stack.start()
    values = [f"v{i}" for i in range(50)]
    await _produce(state, "durable.kill", values)
    broker = state.services["kafka"].process
    stop(broker, sig=signal.SIGKILL)  # kill -9, waited for
    assert not is_alive(broker)

    again = await private_stack.start()
    assert again.services["kafka"].process.pid != broker.pid
    assert await _read_all(again, "durable.kill") == sorted(values)
    await _produce(again, "durable.kill", ["after"])
    assert await _read_all(again, "durable.kill") == sorted([*values, "after"])


async def test_reset_deletes_every_data_folder(private_stack: EmbeddedStack) -> None:
    """`reset` stops the stack and deletes the Kafka log and the PostgreSQL cluster."""
    state = await private_stack.start()
    paths = [p for p in private_stack.data_paths() if p.exists()]
    assert private_stack.state_dir / "kafka" in paths
    assert pg_data_dir(private_stack.state_dir, pg_user()) in paths

    deleted = private_stack.reset()

    assert set(paths) <= set(deleted)
    assert not any(p.exists() for p in paths)
    assert not any(is_alive(s.process) for s in state.services.values())
    assert private_stack.load() is None

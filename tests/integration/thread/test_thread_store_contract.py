"""The thread store's contract, one suite for the in-memory fake and the changelog store:
what a store saved it loads back, and so does a restarted store over its durable values."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import NewTopic

from actors.thread.state import HistoryItem, ThreadState
from devkit.stores import MemoryThreadStore
from infra.endpoints import Endpoints
from infra.kafka.clients import make_admin, make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.threads.state_log import SNAPSHOT_EVERY
from infra.threads.store_port import OutboxRecord, StoredThread, ThreadStore
from infra.threads.stores import ProducerPool
from infra.threads.table_store import ChangelogStore

PARTITIONS = 4


@dataclass
class Subject:
    """A store under test and how to get a restarted one over what it made durable."""

    store: ThreadStore
    restart: Callable[[], Awaitable[ThreadStore]]


async def _changelog_store(
    stack: Endpoints, profile: BrokerProfile, prefix: str
) -> AsyncIterator[Subject]:
    topic = f"{prefix}store-contract-thread-state-changelog"
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        created = NewTopic(topic, PARTITIONS, 1, topic_configs={"cleanup.policy": "compact"})
        await admin.create_topics([created])
    finally:
        await admin.close()
    pool = ProducerPool([make_producer(stack.kafka_bootstrap, profile)])
    readers: list[AIOKafkaConsumer] = []

    async def store_over_changelog() -> ChangelogStore:
        reader = make_consumer(stack.kafka_bootstrap, profile, [], group_id=None)
        await reader.start()
        readers.append(reader)
        return ChangelogStore(topic, pool, reader)

    await pool.start()
    store = await store_over_changelog()

    async def restart() -> ThreadStore:
        """A new worker's store, restored from the changelog as on an assignment."""
        fresh = await store_over_changelog()
        await fresh.restore(range(PARTITIONS))
        return fresh

    try:
        yield Subject(store, restart)
    finally:
        for reader in readers:
            await reader.stop()
        await pool.stop()


@pytest_asyncio.fixture(params=["memory", "changelog"], loop_scope="session")
async def subject(
    request: pytest.FixtureRequest,
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
) -> AsyncIterator[Subject]:
    if request.param == "memory":
        memory = MemoryThreadStore()

        async def restart() -> ThreadStore:
            return memory.restarted()

        yield Subject(memory, restart)
        return
    async for changelog_subject in _changelog_store(stack, broker_profile, topic_prefix):
        yield changelog_subject


def _stored(key: str, n: int, *, with_outbox: bool = False) -> StoredThread:
    history = tuple(
        HistoryItem(role="user" if i % 2 else "assistant", text=f"t{i}", message_ids=(i,))
        for i in range(n)
    )
    outbox = (OutboxRecord("t", key.encode(), str(n).encode(), []),) if with_outbox else ()
    return StoredThread(ThreadState(key=key, turns=n, history=history), outbox)


async def test_an_unknown_thread_loads_nothing(subject: Subject) -> None:
    """A key never saved loads as None, before and after a restart."""
    assert subject.store.load("1:0") is None
    assert (await subject.restart()).load("1:0") is None


async def test_every_save_loads_back_and_the_last_survives_a_restart(subject: Subject) -> None:
    """Across deltas and snapshots each saved state loads back at once; a restarted store
    loads the last one saved of each thread, whatever its partition."""
    keys = [f"{100 + p}:0" for p in range(PARTITIONS)]
    last: dict[str, StoredThread] = {}
    for n in range(SNAPSHOT_EVERY + 3):
        for partition, key in enumerate(keys):
            stored = _stored(key, n + partition, with_outbox=n % 3 == 0)
            await subject.store.save(key, partition, stored)
            assert subject.store.load(key) == stored
            last[key] = stored
    restarted = await subject.restart()
    for key in keys:
        assert restarted.load(key) == last[key]


async def test_a_local_save_is_what_loads_until_the_next_save(subject: Subject) -> None:
    """save_local replaces what load returns in memory; the next save makes it durable."""
    key = "200:0"
    await subject.store.save(key, 0, _stored(key, 1, with_outbox=True))
    local = _stored(key, 2)
    subject.store.save_local(key, local)
    assert subject.store.load(key) == local
    durable = _stored(key, 3)
    await subject.store.save(key, 0, durable)
    assert (await subject.restart()).load(key) == durable

"""Where thread states live: the Faust table (changelog-backed).

The in-memory fake with the same values is ``devkit.stores.MemoryThreadStore`` (tests only).

The table's values are a thread's snapshot and its deltas (raw bytes, see
:mod:`infra.threads.state_log`). Writes go to the table's local store and to its changelog
topic through our own producer, awaited, so a write is durable when :meth:`save` returns
(Faust's own table writes are buffered until the source offset is committed, which is too
late for "turn started"). Faust restores the table from the changelog when a worker
(re)gains a partition.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from infra.threads.state_log import StateLog
from infra.threads.store_port import OutboxRecord, StoredThread

log = logging.getLogger(__name__)


class ProducerPool:
    """Several producers, a record's key choosing one (so one key keeps its order).

    aiokafka keeps one produce request in flight per broker connection, and with Tansu's
    single-record batches a request carries at most one record per partition; a few
    connections multiply what one thread worker can write per round trip.
    """

    def __init__(self, producers: Sequence[AIOKafkaProducer]) -> None:
        if not producers:
            raise ValueError("a producer pool needs at least one producer")
        self.producers = list(producers)

    def for_key(self, key: bytes) -> AIOKafkaProducer:
        return self.producers[zlib.crc32(key) % len(self.producers)]

    async def start(self) -> None:
        for producer in self.producers:
            await producer.start()

    async def stop(self) -> None:
        for producer in self.producers:
            await producer.stop()


class FaustTableStore:
    """The thread table: Faust's store for reads and recovery, our producers for writes.

    A commit writes a delta of the thread's state (or, now and then, a snapshot) to the
    changelog, see :mod:`infra.threads.state_log`."""

    def __init__(self, table: Any, producers: ProducerPool) -> None:
        self.table = table
        self.producers = producers
        self.log = StateLog(table.data)
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def changelog_topic(self) -> str:
        return str(self.table.changelog_topic.get_topic_name())

    @property
    def cache(self) -> dict[str, StoredThread]:
        return self.log.cache

    def forget(self) -> None:
        """Drop decoded values (after a rebalance the table may hold newer ones)."""
        self.log.forget()

    def load(self, key: str) -> StoredThread | None:
        return self.log.load(key)

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        producer = self.producers.for_key(key.encode())
        topic = self.changelog_topic

        async def write(raw_key: bytes, value: bytes) -> None:
            await producer.send_and_wait(topic, value, key=raw_key, partition=partition)

        def drop(raw_keys: list[bytes]) -> None:
            task = asyncio.create_task(_tombstones(producer, topic, partition, raw_keys))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        await self.log.save(key, stored, write, drop)

    def save_local(self, key: str, stored: StoredThread) -> None:
        self.log.save_local(key, stored)


async def _tombstones(
    producer: AIOKafkaProducer, topic: str, partition: int, keys: list[bytes]
) -> None:
    """Delete replaced deltas from the changelog (best effort: readers skip them anyway)."""
    sent = [await producer.send(topic, None, key=key, partition=partition) for key in keys]
    for future in sent:
        try:
            await future
        except Exception as exc:
            log.info("changelog tombstone not written: %s", exc)


class ProducerSink:
    """Publishes outbox records, waiting for every ack (a pool: by record key)."""

    def __init__(self, producer: AIOKafkaProducer | ProducerPool) -> None:
        self.pool = producer if isinstance(producer, ProducerPool) else ProducerPool([producer])

    async def send_all(self, records: Sequence[OutboxRecord]) -> None:
        futures = [
            await self.pool.for_key(r.key).send(
                r.topic, r.value, key=r.key, headers=list(r.headers)
            )
            for r in records
        ]
        for future in futures:
            await future

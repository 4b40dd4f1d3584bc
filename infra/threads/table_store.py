"""Where thread states live: a key-value map per inbox partition over a compacted changelog.

The map's values are a thread's snapshot and its deltas (raw bytes, see
:mod:`infra.threads.state_log`). Writes go to the changelog topic through our own producers
(the partition is the thread's inbox partition), awaited, and then to the map, so a write is
durable when :meth:`ChangelogStore.save` returns. When the worker gains partitions,
:meth:`ChangelogStore.restore` reads their changelog partitions to the end before any inbox
record of them is handled; a partition kept across a rebalance is read on from where it was
left (the changelog is append-only, so what others wrote meanwhile comes after).

The changelog topic is the one the Faust table of earlier versions wrote
(``thread-actor-thread-state-changelog``, with the topic prefix), so a deployed log carries
over unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from events.catalog import TopicSpec
from infra.kafka.read_to_end import read_to_end
from infra.threads.state_log import StateLog
from infra.threads.store_port import StoredThread
from infra.threads.stores import ProducerPool

log = logging.getLogger(__name__)

THREAD_STATE_CHANGELOG = TopicSpec[bytes](
    name="thread-actor-thread-state-changelog",
    key_kind="thread",
    value_type=bytes,
    description="The thread worker's states: per thread a snapshot and its deltas "
    "(infra.threads.state_log), written before a turn's effects; compacted.",
    producers=("thread-actor",),
    consumers=("thread-actor",),
    cleanup_policy="compact",
)


class ChangelogStore:
    """The thread table (see the module docstring); ``reader`` is a started group-less
    consumer of this store's own."""

    def __init__(self, topic: str, producers: ProducerPool, reader: AIOKafkaConsumer) -> None:
        self.changelog_topic = topic
        self.producers = producers
        self.reader = reader
        self.data: dict[bytes, bytes] = {}
        self.log = StateLog(self.data)
        self._keys: dict[int, set[bytes]] = {}  # raw keys in ``data``, by partition
        self._positions: dict[int, int] = {}  # changelog offset read up to, by partition
        self._background: set[asyncio.Task[None]] = set()

    @property
    def cache(self) -> dict[str, StoredThread]:
        return self.log.cache

    def forget(self) -> None:
        """Drop decoded values (after a rebalance the map may hold newer ones)."""
        self.log.forget()

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget the values of partitions this worker no longer owns."""
        for partition in partitions:
            for raw_key in self._keys.pop(partition, set()):
                self.data.pop(raw_key, None)
            self._positions.pop(partition, None)

    def owned(self) -> set[int]:
        return set(self._positions)

    async def restore(self, partitions: Iterable[int]) -> int:
        """Read the changelog of ``partitions`` to its end into the map; records read."""
        tps = [TopicPartition(self.changelog_topic, p) for p in partitions]
        starts = {tp: self._positions.get(tp.partition, 0) for tp in tps}
        read = await read_to_end(self.reader, tps, starts=starts)
        count = 0
        async for tp, records in read.batches():
            keys = self._keys.setdefault(tp.partition, set())
            for record in records:
                if record.key is None:
                    continue
                if record.value is None:
                    self.data.pop(record.key, None)
                    keys.discard(record.key)
                else:
                    self.data[record.key] = record.value
                    keys.add(record.key)
            count += len(records)
        for tp, position in read.positions.items():
            self._positions[tp.partition] = position
        return count

    def load(self, key: str) -> StoredThread | None:
        return self.log.load(key)

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        producer = self.producers.for_key(key.encode())
        topic = self.changelog_topic
        keys = self._keys.setdefault(partition, set())

        async def write(raw_key: bytes, value: bytes) -> None:
            await producer.send_and_wait(topic, value, key=raw_key, partition=partition)
            keys.add(raw_key)

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

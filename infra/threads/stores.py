"""Where thread states live: the Faust table (changelog-backed) and an in-memory fake.

The table's values are the encoded :class:`~infra.threads.actor.StoredThread` (raw bytes).
Writes go to the table's local store and to its changelog topic through our own producer,
awaited, so a write is durable when :meth:`save` returns (Faust's own table writes are
buffered until the source offset is committed, which is too late for "turn started").
Faust restores the table from the changelog when a worker (re)gains a partition.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, Final

import msgspec
from aiokafka import AIOKafkaProducer

from actors.thread.state import bounded
from infra.threads.actor import OutboxRecord, StoredThread

MAX_VALUE_BYTES: Final = 900_000

_encoder: Final = msgspec.json.Encoder()
_decoder: Final = msgspec.json.Decoder(StoredThread)


def encode_stored(stored: StoredThread) -> bytes:
    """Encode, dropping the oldest history while the value is over the broker's limit."""
    data = _encoder.encode(stored)
    state = stored.state
    while len(data) > MAX_VALUE_BYTES and len(state.history) > 1:
        keep = max(1, len(state.history) * 3 // 4)
        state = msgspec.structs.replace(state, history=bounded(state.history[-keep:]))
        data = _encoder.encode(StoredThread(state, stored.outbox))
    return data


def decode_stored(data: bytes) -> StoredThread:
    return _decoder.decode(data)


class MemoryThreadStore:
    """The in-memory fake of the table (same encoding, no durability)."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.cache: dict[str, StoredThread] = {}
        self.saves = 0

    def load(self, key: str) -> StoredThread | None:
        found = self.cache.get(key)
        if found is None and key in self.values:
            found = self.cache[key] = decode_stored(self.values[key])
        return found

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        self.values[key] = encode_stored(stored)
        self.cache[key] = stored
        self.saves += 1

    def save_local(self, key: str, stored: StoredThread) -> None:
        self.cache[key] = stored


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
    """The thread table: Faust's store for reads and recovery, our producers for writes."""

    def __init__(self, table: Any, producers: ProducerPool) -> None:
        self.table = table
        self.producers = producers
        self.cache: dict[str, StoredThread] = {}

    @property
    def changelog_topic(self) -> str:
        return str(self.table.changelog_topic.get_topic_name())

    def forget(self) -> None:
        """Drop decoded values (after a rebalance the table may hold newer ones)."""
        self.cache.clear()

    def load(self, key: str) -> StoredThread | None:
        found = self.cache.get(key)
        if found is not None:
            return found
        raw = self.table.data.get(key.encode())
        if raw is None:
            return None
        found = self.cache[key] = decode_stored(raw)
        return found

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        data = encode_stored(stored)
        raw_key = key.encode()
        await self.producers.for_key(raw_key).send_and_wait(
            self.changelog_topic, data, key=raw_key, partition=partition
        )
        self.table.data[key.encode()] = data
        self.cache[key] = stored

    def save_local(self, key: str, stored: StoredThread) -> None:
        self.cache[key] = stored


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

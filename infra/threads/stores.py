"""The thread worker's producers: a pool by key, and the sink that publishes outboxes.

Thread states live in :mod:`infra.threads.table_store` (its in-memory fake, with the same
values, is ``devkit.stores.MemoryThreadStore``, tests only).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from infra.threads.store_port import OutboxRecord


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

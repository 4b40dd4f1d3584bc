"""Appending ledger entries: to their partitions, every ack awaited.

On Tansu every record is its own batch (see :mod:`infra.kafka.compat`); elsewhere the
batches are built here, far cheaper than one ``send()`` per record.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from events.codec import EncodedRecord
from infra.kafka.compat import BrokerProfile


async def append_entries(
    producer: AIOKafkaProducer,
    profile: BrokerProfile,
    topic: str,
    outgoing: dict[int, list[EncodedRecord]],
) -> int:
    """Produce the encoded entries to their partitions of ``topic`` and wait for every ack;
    answers how many were written."""
    futures = []
    if profile.tansu_workarounds:  # one record per batch (see infra.kafka.compat)
        for partition, records in outgoing.items():
            for key, value, headers in records:
                futures.append(
                    await producer.send(topic, value, key=key, headers=headers, partition=partition)
                )
    else:  # build the batches ourselves: far cheaper than one send() per record
        for partition, records in outgoing.items():
            batch = producer.create_batch()
            for key, value, headers in records:
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                        raise ValueError("a ledger entry is larger than a producer batch")
            if batch.record_count():
                futures.append(await producer.send_batch(batch, topic, partition=partition))
    if futures:
        await asyncio.gather(*futures)
    return sum(len(r) for r in outgoing.values())

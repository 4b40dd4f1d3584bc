"""Reading a topic's records without a consumer group: to its current end, or following it.

The operator's tools (``botctl topics tail``, ``botctl dlq``) read through here. The reader
never commits and never joins a group, so it changes nothing for the services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

from aiokafka import TopicPartition

from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile
from infra.kafka.read_to_end import follow as read_follow
from infra.kafka.read_to_end import read_to_end

FETCH_RECORDS = 2000


class TopicNotFound(LookupError):
    """The broker has no topic of that name."""


async def read_topic_records(
    bootstrap: str,
    profile: BrokerProfile,
    topic: str,
    *,
    last: int | None = None,
    follow: bool = False,
) -> AsyncIterator[Any]:
    """The records of ``topic`` (aiokafka ``ConsumerRecord``s), partitions interleaved as
    fetched, up to the end offsets at the call (:func:`infra.kafka.read_to_end.read_to_end`);
    with ``follow``, then every new one.

    ``last``: start each partition that many records before its end instead of at its start.
    """
    consumer = make_consumer(bootstrap, profile, (), group_id=None)
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            raise TopicNotFound(f"topic {topic!r} does not exist")
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        if last is not None:
            starts = {tp: max(starts[tp], ends[tp] - last) for tp in tps}
        read = await read_to_end(consumer, tps, starts=starts, ends=ends)
        async for _tp, records in read.batches(max_records=FETCH_RECORDS, timeout_ms=500):
            for record in records:
                yield record
        if follow:
            positions = {tp: read.positions.get(tp, starts[tp]) for tp in tps}
            tail = read_follow(consumer, positions, max_records=FETCH_RECORDS, timeout_ms=500)
            async for _tp, records in tail:
                for record in records:
                    yield record
    finally:
        with suppress(Exception):
            await consumer.stop()

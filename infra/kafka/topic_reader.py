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
    fetched, up to the end offsets at the call; with ``follow``, then every new one.

    ``last``: start each partition that many records before its end instead of at its start.
    """
    consumer = make_consumer(bootstrap, profile, (), group_id=None)
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            raise TopicNotFound(f"topic {topic!r} does not exist")
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        remaining = set()
        for tp in tps:
            begin = starts[tp] if last is None else max(starts[tp], ends[tp] - last)
            consumer.seek(tp, begin)
            if begin < ends[tp]:
                remaining.add(tp)
        while remaining or follow:
            wanted = tps if follow else list(remaining)
            batches = await consumer.getmany(*wanted, timeout_ms=500, max_records=FETCH_RECORDS)
            for tp, records in batches.items():
                for record in records:
                    if not follow and record.offset >= ends[tp]:
                        break
                    yield record
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        with suppress(Exception):
            await consumer.stop()

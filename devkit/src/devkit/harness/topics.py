"""Reading and writing topics in tests and benchmarks: every record of a topic up to its
current end (raw or decoded), the ledger, a publisher, and waiting for a condition."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from events.billing import UsageDebited
from events.catalog import BILLING_LEDGER, LedgerRecord, TopicSpec, with_prefix
from events.codec import codec_for
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher


async def read_records(
    bootstrap: str, profile: BrokerProfile, topic: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` (a full name) up to its current end, partition by partition."""
    reader = make_consumer(bootstrap, profile, [], group_id=None)
    await reader.start()
    out: list[ConsumerRecord[bytes, bytes]] = []
    try:
        await reader.topics()
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
        if not tps:
            return out
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in (await reader.getmany(*remaining, timeout_ms=1000)).items():
                out += records
                if records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await reader.stop()
    return out


async def read_topic(
    bootstrap: str, profile: BrokerProfile, spec: TopicSpec[Any], prefix: str
) -> list[Any]:
    """Every record of a (prefixed) topic, decoded by its codec, in partition order."""
    codec = codec_for(spec)
    records = await read_records(bootstrap, profile, with_prefix(spec, prefix).name)
    return [codec.decode(r.value, r.headers) for r in records]


async def read_at_least(
    bootstrap: str,
    profile: BrokerProfile,
    spec: TopicSpec[Any],
    prefix: str,
    *,
    count: int,
    timeout: float = 30.0,
    settle: float = 0.0,
) -> list[Any]:
    """At least ``count`` decoded records of a (prefixed) topic, waiting up to ``timeout``,
    then ``settle`` seconds more to catch any extra ones (fewer if the time runs out)."""
    name = with_prefix(spec, prefix).name
    consumer = make_consumer(bootstrap, profile, [], group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(name, p) for p in range(spec.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        codec = codec_for(spec)
        out: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settle_until: float | None = None
        while (now := loop.time()) < deadline:
            if len(out) >= count and settle_until is None:
                settle_until = now + settle
            if settle_until is not None and now >= settle_until:
                break
            for records in (await consumer.getmany(timeout_ms=100)).values():
                out.extend(codec.decode(r.value, r.headers) for r in records)
        return out
    finally:
        await consumer.stop()


async def read_ledger(bootstrap: str, profile: BrokerProfile, prefix: str) -> list[LedgerRecord]:
    """Every ledger entry under ``prefix``."""
    found: list[LedgerRecord] = await read_topic(bootstrap, profile, BILLING_LEDGER, prefix)
    return found


async def wait_debits(
    bootstrap: str,
    profile: BrokerProfile,
    prefix: str,
    count: int,
    *,
    user_id: int | None = None,
    thread_key: str | None = None,
    where: Callable[[UsageDebited], bool] | None = None,
    timeout: float = 60.0,
) -> list[UsageDebited]:
    """The usage debits of a user and/or a thread (and ``where``), once there are at least
    ``count``."""

    async def enough() -> list[UsageDebited] | None:
        found = [
            e
            for e in await read_ledger(bootstrap, profile, prefix)
            if isinstance(e, UsageDebited)
            and (user_id is None or e.user_id == user_id)
            and (thread_key is None or e.thread_key == thread_key)
            and (where is None or where(e))
        ]
        return found if len(found) >= count else None

    result: list[UsageDebited] = await eventually(enough, timeout, interval=0.3)
    return result


@asynccontextmanager
async def running_publisher(
    bootstrap: str, profile: BrokerProfile, prefix: str
) -> AsyncIterator[EventPublisher]:
    """An `EventPublisher` writing under ``prefix``, its producer stopped on exit."""
    producer = make_producer(bootstrap, profile)
    await producer.start()
    try:
        yield EventPublisher(producer, topic_prefix=prefix)
    finally:
        await producer.stop()


async def eventually(
    predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05
) -> Any:
    """Wait until ``predicate()`` (sync or async) is truthy; return its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)

"""The one way to read partitions to their end (infra/kafka/read_to_end.py), on the real broker."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from infra.endpoints import Endpoints
from infra.kafka.clients import make_admin, make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.read_to_end import follow, read_to_end

PARTITIONS = 12


async def _topic_with(
    stack: Endpoints, profile: BrokerProfile, topic: str, counts: dict[int, int]
) -> list[TopicPartition]:
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    await _send(stack, profile, topic, counts)
    return [TopicPartition(topic, p) for p in range(PARTITIONS)]


async def _send(
    stack: Endpoints, profile: BrokerProfile, topic: str, counts: dict[int, int], first: int = 0
) -> None:
    producer = make_producer(stack.kafka_bootstrap, profile)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, f"{p}:{i}".encode(), partition=p)
            for p, n in counts.items()
            for i in range(first, first + n)
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def test_partitions_are_read_together_and_empty_ones_never_fetched(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """Of 12 partitions, only the 2 with records are assigned (together), every record up to
    the end offsets comes back in order, and records appended after the read began do not."""
    topic = f"{topic_prefix}read-to-end"
    tps = await _topic_with(stack, broker_profile, topic, {3: 40, 7: 25})
    consumer = make_consumer(stack.kafka_bootstrap, broker_profile, [], group_id=None)
    await consumer.start()
    try:
        read = await read_to_end(consumer, tps)
        assert consumer.assignment() == {tps[3], tps[7]}
        await _send(stack, broker_profile, topic, {3: 5, 5: 5}, first=1000)  # after the ends
        got: dict[int, list[bytes]] = {}
        async for tp, records in read.batches(max_records=7):
            got.setdefault(tp.partition, []).extend(r.value for r in records)
        assert got == {
            3: [f"3:{i}".encode() for i in range(40)],
            7: [f"7:{i}".encode() for i in range(25)],
        }
        assert read.positions[tps[3]] == 40
        assert read.positions[tps[7]] == 25
        assert read.positions[tps[5]] == 0
    finally:
        await consumer.stop()


async def test_a_read_picks_up_where_the_last_one_stopped_and_can_stop_a_partition(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """A second read from the first one's positions returns only the new records; a stopped
    partition hands out nothing more; follow() then returns records written after that."""
    topic = f"{topic_prefix}read-again"
    tps = await _topic_with(stack, broker_profile, topic, {0: 10, 1: 10})
    consumer = make_consumer(stack.kafka_bootstrap, broker_profile, [], group_id=None)
    await consumer.start()
    try:
        first = await read_to_end(consumer, tps)
        async for _tp, _records in first.batches():
            pass
        await _send(stack, broker_profile, topic, {1: 3, 2: 4}, first=10)
        second = await read_to_end(consumer, tps, starts=first.positions)
        assert consumer.assignment() == {tps[1], tps[2]}
        seen: list[bytes] = []
        async for tp, records in second.batches():
            for record in records:
                seen.append(record.value)
                if tp.partition == 2 and record.value == b"2:11":
                    second.stop(tp)
                    break
        assert sorted(seen) == sorted([b"1:10", b"1:11", b"1:12", b"2:10", b"2:11"])
        await _send(stack, broker_profile, topic, {4: 1}, first=99)
        tail = follow(consumer, {tps[4]: 0})
        tp, records = await asyncio.wait_for(anext(tail), 30)
        assert (tp, [r.value for r in records]) == (tps[4], [b"4:99"])
        await tail.aclose()
    finally:
        await consumer.stop()

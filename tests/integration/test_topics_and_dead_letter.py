"""Topic catalog on a real broker: ensure, plain-consumer readability, dead letters."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from events.catalog import THREAD_INBOX, all_topics, with_prefix
from events.codec import codec_for
from events.envelope import new_envelope
from events.keys import thread_key
from events.messages import TelegramUser, UserMessage
from events.thread import StopRequested, UserMessageReceived
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.dead_letter import decode_or_dead_letter
from infra.kafka.topic_admin import ensure_topics


async def _read(bootstrap: str, topic: str, partitions: int, count: int) -> list[Any]:
    """Read ``count`` records from every partition of ``topic`` with a plain consumer."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        records: list[Any] = []
        async with asyncio.timeout(20):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for part in batch.values():
                    records.extend(part)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


def _message(chat_id: int, thread_id: int, text: str) -> UserMessageReceived:
    key = thread_key(chat_id, thread_id)
    return UserMessageReceived(
        **new_envelope(key=key, producer="test-gateway"),
        message=UserMessage(
            chat_id=chat_id,
            chat_type="supergroup",
            message_thread_id=thread_id,
            message_id=10,
            sender=TelegramUser(user_id=5551234, first_name="Ann"),
            sent_at=new_envelope(key=key, producer="x")["occurred_at"],
            text=text,
        ),
    )


async def test_ensure_topics_creates_everything_then_changes_nothing(
    stack: Endpoints, topic_prefix: str
) -> None:
    """First run creates every catalog topic (and .dlq); the second creates none."""
    first = await ensure_topics(stack.kafka_bootstrap, all_topics(), name_prefix=topic_prefix)
    assert first.ok, first.mismatches
    assert sorted(first.created) == sorted(topic_prefix + t.name for t in all_topics())
    second = await ensure_topics(stack.kafka_bootstrap, all_topics(), name_prefix=topic_prefix)
    assert second.ok, second.mismatches
    assert second.created == []
    assert sorted(second.verified) == sorted(first.created)


async def test_ensure_topics_reports_fewer_partitions_and_wrong_retention(
    stack: Endpoints, topic_prefix: str
) -> None:
    """An existing topic with fewer partitions or finite retention is a mismatch."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(topic_prefix + "bot.thread.inbox", 3, 1),
                NewTopic(
                    topic_prefix + "bot.thread.events",
                    12,
                    1,
                    topic_configs={"retention.ms": "1000"},
                ),
            ]
        )
    finally:
        await admin.close()
    report = await ensure_topics(stack.kafka_bootstrap, all_topics(), name_prefix=topic_prefix)
    problems: dict[str, str] = {}
    for m in report.mismatches:
        problems[m.topic] = problems.get(m.topic, "") + m.problem + "; "
    assert not report.ok
    assert (
        "has 3 partitions, fewer than the 12 declared"
        in problems[topic_prefix + "bot.thread.inbox"]
    )
    assert "retention.ms is '1000'" in problems[topic_prefix + "bot.thread.events"]
    assert len(report.created) == len(all_topics()) - 2


async def test_plain_consumer_reads_json_with_type_version_and_readable_key(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """A consumer knowing nothing of the project sees a text key, JSON value and headers."""
    await ensure_topics(stack.kafka_bootstrap, [THREAD_INBOX], name_prefix=topic_prefix)
    topic = with_prefix(THREAD_INBOX, topic_prefix).name
    record = _message(-1001234, 42, "Hello")
    key, value, headers = codec_for(THREAD_INBOX).encode(record)
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
    (got,) = await _read(stack.kafka_bootstrap, topic, THREAD_INBOX.partitions, 1)
    assert got.key.decode() == "-1001234:42"
    body = json.loads(got.value)
    assert body["type"] == "thread.user_message_received"
    assert body["v"] == 1
    assert body["message"]["text"] == "Hello"
    assert body["id"] == str(record.id)
    plain_headers = {k: v.decode() for k, v in got.headers}
    assert plain_headers == {
        "event-type": "thread.user_message_received",
        "schema-version": "1",
        "correlation-id": str(record.correlation_id),
        "content-type": "application/json",
    }


async def test_undecodable_record_goes_to_the_dead_letter_topic_and_processing_continues(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """Garbage between two good records is parked unchanged in .dlq with the reason."""
    spec = with_prefix(THREAD_INBOX, topic_prefix)
    await ensure_topics(
        stack.kafka_bootstrap, [THREAD_INBOX, THREAD_INBOX.dead_letter()], name_prefix=topic_prefix
    )
    codec = codec_for(THREAD_INBOX)
    key = thread_key(5551234, None)
    good1 = StopRequested(**new_envelope(key=key, producer="test"), user_id=5551234)
    good2 = _message(5551234, 0, "after the garbage")
    garbage_headers = [("event-type", b"thread.stop_requested"), ("trace", b"abc")]
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        for record in (good1, None, good2):
            if record is None:
                await producer.send_and_wait(
                    spec.name, b"{oops", key=key.encode(), headers=garbage_headers
                )
            else:
                k, v, h = codec.encode(record)
                await producer.send_and_wait(spec.name, v, key=k, headers=h)
        raw = await _read(stack.kafka_bootstrap, spec.name, spec.partitions, 3)
        decoded = [await decode_or_dead_letter(codec, r, producer) for r in raw]
    finally:
        await producer.stop()
    assert decoded == [good1, None, good2]
    garbage = raw[1]
    (dead,) = await _read(stack.kafka_bootstrap, spec.dead_letter_name, spec.partitions, 1)
    assert (dead.key, dead.value) == (key.encode(), b"{oops")
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq-reason"] == "invalid_json"
    assert headers["dlq-source-topic"] == spec.name
    assert headers["dlq-source-partition"] == str(garbage.partition)
    assert headers["dlq-source-offset"] == str(garbage.offset)
    assert headers["dlq-failed-at"].endswith("Z")
    assert headers["trace"] == "abc"
    assert headers["event-type"] == "thread.stop_requested"

"""``botctl topics tail`` and ``botctl dlq`` on the real broker."""

from __future__ import annotations

import io
from typing import Any

from events.catalog import THREAD_INBOX, all_topics, with_prefix
from events.codec import codec_for
from infra.cli.log_cmds import Position, dead_letters, retry_dead_letters, tail_records
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.dead_letter import send_to_dead_letter
from infra.kafka.topic_admin import ensure_topics
from infra.kafka.topic_reader import read_topic_records
from tests.integration.test_topics_and_dead_letter import _message


async def _produce(stack: Endpoints, profile: BrokerProfile, topic: str, items: list[Any]) -> None:
    producer = make_producer(stack.kafka_bootstrap, profile)
    await producer.start()
    try:
        for key, value, headers in items:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def test_tail_decodes_filters_by_key_and_flags_undecodable_records(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """tail --decode prints one JSON line per record, only for --key, and marks garbage."""
    await ensure_topics(stack.kafka_bootstrap, all_topics(), name_prefix=topic_prefix)
    topic = with_prefix(THREAD_INBOX, topic_prefix).name
    codec = codec_for(THREAD_INBOX)
    good = codec.encode(_message(-1001234, 42, "Hello"))
    other = codec.encode(_message(-1001234, 7, "Elsewhere"))
    garbage = (b"-1001234:42", b"{not json", [])
    await _produce(stack, broker_profile, topic, [good, other, garbage])

    out = io.StringIO()
    count = await tail_records(
        stack.kafka_bootstrap,
        broker_profile,
        topic,
        out,
        decode=True,
        key="-1001234:42",
        prefix=topic_prefix,
    )
    lines = out.getvalue().splitlines()
    assert count == 2
    assert '"text": "Hello"' in lines[0]
    assert '"type": "thread.user_message_received"' in lines[0]
    assert "UNDECODABLE(invalid_json) {not json" in lines[1]
    assert not any("Elsewhere" in line for line in lines)


async def test_dlq_lists_reasons_and_retry_puts_the_record_back_on_its_source_topic(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """A dead letter is listed with its reason and source; retry re-produces it unchanged."""
    await ensure_topics(stack.kafka_bootstrap, all_topics(), name_prefix=topic_prefix)
    spec = with_prefix(THREAD_INBOX, topic_prefix)
    key, value, headers = codec_for(THREAD_INBOX).encode(_message(-1001234, 42, "Parked"))
    await _produce(stack, broker_profile, spec.name, [(key, value, headers)])
    (original,) = [
        r async for r in read_topic_records(stack.kafka_bootstrap, broker_profile, spec.name)
    ]
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        await send_to_dead_letter(producer, original, "newer_version", "v9 unknown")
    finally:
        await producer.stop()

    (letter,) = await dead_letters(stack.kafka_bootstrap, broker_profile, topic_prefix)
    assert letter.topic == spec.dead_letter_name
    assert dict(letter.headers)["dlq-reason"] == b"newer_version"

    sent = await retry_dead_letters(
        stack.kafka_bootstrap,
        broker_profile,
        spec.dead_letter_name,
        [Position(letter.partition, letter.offset)],
    )
    assert sent == [(Position(letter.partition, letter.offset), spec.name)]
    records = [
        r async for r in read_topic_records(stack.kafka_bootstrap, broker_profile, spec.name)
    ]
    assert len(records) == 2
    again = records[-1]
    assert (again.key, again.value) == (key, value)
    assert not any(name.startswith("dlq-") for name, _ in again.headers)
    assert dict(again.headers)["event-type"] == b"thread.user_message_received"

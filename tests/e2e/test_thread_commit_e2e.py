"""The inbox commit rule under kill -9: a turn in flight is never committed past, whatever
finished after it on the same partition (issue 10 item 4, faust-streaming#606)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2
from thread_e2e import (
    WorkerProcess,
    events_of,
    eventually,
    fund,
    message_command,
    wait_ready,
)

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from events.catalog import THREAD_INBOX, with_prefix
from events.codec import codec_for
from events.keys import thread_key
from events.thread import TurnCompleted, TurnFailed, TurnStarted
from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow

PARTITIONS = 12
COMMIT_INTERVAL = 1.0  # the worker's broker_commit_interval


def partition_of(chat_id: int) -> int:
    return (murmur2(thread_key(chat_id).encode()) & 0x7FFFFFFF) % PARTITIONS


@pytest_asyncio.fixture(loop_scope="session")
async def producer(
    stack: Endpoints, broker_profile: BrokerProfile
) -> AsyncIterator[AIOKafkaProducer]:
    made = make_producer(stack.kafka_bootstrap, broker_profile)
    await made.start()
    yield made
    await made.stop()


async def send_at(
    producer: AIOKafkaProducer, prefix: str, chat_id: int, text: str, message_id: int
) -> int:
    """Publish a message command; its inbox offset."""
    key, value, headers = codec_for(THREAD_INBOX).encode(
        message_command(chat_id, text, message_id=message_id)
    )
    name = with_prefix(THREAD_INBOX, prefix).name
    meta = await producer.send_and_wait(name, value, key=key, headers=headers)
    assert meta.partition == partition_of(chat_id)
    return int(meta.offset)


async def committed(stack: Endpoints, profile: BrokerProfile, prefix: str, partition: int) -> int:
    """The thread worker group's committed offset of an inbox partition (-1: none)."""
    consumer = make_consumer(stack.kafka_bootstrap, profile, [], group_id=f"{prefix}thread-actor")
    await consumer.start()
    try:
        tp = TopicPartition(with_prefix(THREAD_INBOX, prefix).name, partition)
        found = await consumer.committed(tp)
        return -1 if found is None else int(found)
    finally:
        await consumer.stop()


async def test_kill_9_after_later_turns_finished_still_resumes_the_slow_turn_once(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    producer: AIOKafkaProducer,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """Thread A's turn streams slowly while thread B, on the same inbox partition, finishes
    three turns and the commit interval passes several times: the committed offset stays
    at A's command; after kill -9 the restarted worker resumes A and ends it exactly once,
    and B's turns are not run again."""
    prefix = thread_worker.prefix
    await wait_ready(thread_worker, publisher, telegram_emulator, 840001)
    claude_emulator.reset()
    chat_a = 840002
    chat_b = next(
        c for c in range(chat_a + 1, chat_a + 500) if partition_of(c) == partition_of(chat_a)
    )
    for chat in (chat_a, chat_b):
        telegram_emulator.add_private_chat(chat)
        await fund(publisher, chat)
    claude_emulator.script(
        text_reply("slow " * 4000, chunk_delay=0.1, chunk_size=5, contains="slow")
    )
    offset_a = await send_at(producer, prefix, chat_a, "slow one", 10)
    await claude_emulator.wait_for_requests(1, timeout=30)
    for n in range(3):
        await send_at(producer, prefix, chat_b, f"quick {n}", 20 + n)
        await eventually(
            lambda n=n: len(telegram_emulator.bot_messages(chat_b)) > n, 30, interval=0.1
        )
    partition = partition_of(chat_a)
    await eventually(
        lambda: _at_least(committed(stack, broker_profile, prefix, partition), offset_a),
        30,
        interval=0.2,
    )
    await asyncio.sleep(3 * COMMIT_INTERVAL)  # let B's acks reach a few commits
    assert await committed(stack, broker_profile, prefix, partition) == offset_a
    assert not telegram_emulator.bot_messages(chat_a)
    thread_worker.kill9()

    thread_worker.start()
    await eventually(lambda: telegram_emulator.bot_messages(chat_a), 90, interval=0.2)

    async def ended(chat: int) -> list[object] | None:
        found = await events_of(stack.kafka_bootstrap, broker_profile, prefix, thread_key(chat))
        return found if any(isinstance(e, TurnCompleted | TurnFailed) for e in found) else None

    events_a = await eventually(lambda: ended(chat_a), 30)
    assert len({e.turn_id for e in events_a if isinstance(e, TurnStarted)}) == 1
    # ids: an outbox the crash left unpublished (or unconfirmed) is republished byte for byte
    assert len({e.id for e in events_a if isinstance(e, TurnCompleted | TurnFailed)}) == 1
    assert len(telegram_emulator.bot_messages(chat_a)) == 1
    events_b = await events_of(stack.kafka_bootstrap, broker_profile, prefix, thread_key(chat_b))
    assert len({e.id for e in events_b if isinstance(e, TurnCompleted)}) == 3
    assert len(telegram_emulator.bot_messages(chat_b)) == 3


async def _at_least(value: object, floor: int) -> bool:
    return bool(await value >= floor)  # type: ignore[misc,operator]

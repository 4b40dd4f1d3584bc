"""The thread worker's own inbox loop (infra.kafka.acked_consumer) on the real broker: what
it commits, what a revocation leaves to the next owner, and a redelivered command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import NewTopic

from devkit.emulators.claude import text_reply
from devkit.harness.thread import Harness, message_command, thread_events
from events.catalog import THREAD_INBOX, with_prefix
from events.codec import codec_for
from events.thread import TurnStarted
from infra.endpoints import Endpoints
from infra.kafka.acked_consumer import Ack, AckedConsumer, Record
from infra.kafka.clients import make_admin, make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.threads.mailbox import InboxItem

QUICK_GROUP = {"heartbeat_interval_ms": 100}  # a joining member is noticed at once


@dataclass
class Hooks:
    """Partition hooks that note what they were told."""

    assigned_to: list[set[int]] = field(default_factory=list)
    revoked_from: list[set[int]] = field(default_factory=list)

    async def assigned(self, partitions: set[int]) -> None:
        self.assigned_to.append(partitions)

    async def revoked(self, partitions: set[int]) -> None:
        self.revoked_from.append(partitions)


@dataclass
class Member:
    """A loop of the group, with every record it handed out and the ack it came with."""

    loop: AckedConsumer
    hooks: Hooks
    handed: list[tuple[int, Ack]] = field(default_factory=list)

    async def committed(self, topic: str) -> int | None:
        found = await self.loop.consumer.committed(TopicPartition(topic, 0))
        return None if found is None else int(found)


Members = Callable[[str, str], Awaitable[Member]]


@pytest_asyncio.fixture(loop_scope="session")
async def members(stack: Endpoints, broker_profile: BrokerProfile) -> AsyncIterator[Members]:
    """Makes started group members (stopped at the end, without a last commit)."""
    started: list[AIOKafkaConsumer] = []

    async def member(topic: str, group: str) -> Member:
        consumer = make_consumer(
            stack.kafka_bootstrap, broker_profile, [], group_id=group, **QUICK_GROUP
        )
        await consumer.start()
        started.append(consumer)
        hooks = Hooks()
        handed: list[tuple[int, Ack]] = []

        async def handle(record: Record, ack: Ack) -> None:
            handed.append((record.offset, ack))

        loop = AckedConsumer(consumer, topic, hooks, handle, commit_interval=60.0)
        loop.subscribe()
        return Member(loop, hooks, handed)

    yield member
    for consumer in started:
        await consumer.stop()


async def _topic(stack: Endpoints, profile: BrokerProfile, name: str, records: int) -> None:
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()
    producer = make_producer(stack.kafka_bootstrap, profile)
    await producer.start()
    try:
        # the broker's metadata has the topic once a client sees it: a member that joined
        # before would be assigned nothing (seen under load, with no record to wait for)
        await producer.partitions_for(name)
        for n in range(records):
            await producer.send_and_wait(name, f"r{n}".encode(), key=b"k", partition=0)
    finally:
        await producer.stop()


async def _poll_until(members: list[Member], done: Callable[[], bool], rounds: int = 200) -> None:
    for _ in range(rounds):
        if done():
            return
        for member in members:
            await member.loop.poll_once()
    assert done(), "the loops did not get there"


async def test_only_the_contiguous_acked_offset_is_committed(
    members: Members, stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """Records 1 and 2 acked, record 0 still in flight: the commit stays at 0; once 0 is
    acked it moves past all three."""
    topic = f"{topic_prefix}inbox"
    await _topic(stack, broker_profile, topic, 3)
    member = await members(topic, f"{topic_prefix}group")
    await _poll_until([member], lambda: len(member.handed) == 3)
    assert [offset for offset, _ in member.handed] == [0, 1, 2]
    member.handed[2][1]()
    member.handed[1][1]()
    await member.loop.commit()
    assert await member.committed(topic) == 0
    member.handed[0][1]()
    await member.loop.commit()
    assert await member.committed(topic) == 3


async def test_a_revocation_mid_turn_leaves_the_record_to_the_next_owner(
    members: Members, stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """A second member joins while record 0 is unacked (its turn running) and 1 is acked:
    the first member is told to stop the partition, commits no further than 0, and its
    late ack of 0 counts for nothing; whoever owns the partition next gets 0 and 1 again,
    and their acks move the commit past both."""
    topic, group = f"{topic_prefix}inbox", f"{topic_prefix}group"
    await _topic(stack, broker_profile, topic, 2)
    first = await members(topic, group)
    await _poll_until([first], lambda: len(first.handed) == 2)
    stale_ack = first.handed[0][1]
    first.handed[1][1]()
    second = await members(topic, group)
    both = [first, second]
    await _poll_until(both, lambda: len(first.handed) + len(second.handed) == 4)
    assert first.hooks.revoked_from[0] == {0}
    assert await first.committed(topic) == 0
    again = first.handed[2:] + second.handed
    assert [offset for offset, _ in again] == [0, 1]
    stale_ack()
    owner = first if first.handed[2:] else second
    await owner.loop.commit()
    assert await owner.committed(topic) == 0
    for _, ack in again:
        ack()
    await owner.loop.commit()
    assert await owner.committed(topic) == 2


async def test_a_command_redelivered_after_a_crash_is_handled_once(
    harness: Harness,
    members: Members,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """The worker answered a message and acked it, then died before its commit: the next
    member of the group gets the command again, and the actor acks it without a second
    turn or a second answer; that ack moves the commit past it."""
    h = harness
    cid = 7301
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    h.claude.script(text_reply("once only"))
    inbox = with_prefix(THREAD_INBOX, h.prefix).name
    group = f"{h.prefix}thread-actor"
    command = message_command(cid, "hello", message_id=1)
    key, value, headers = codec_for(THREAD_INBOX).encode(command)
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        sent = await producer.send_and_wait(inbox, value, key=key, headers=headers)
    finally:
        await producer.stop()
    tp = TopicPartition(inbox, sent.partition)
    acked: list[int] = []

    async def feed(member: Member) -> None:
        async def handle(record: Record, ack: Ack) -> None:
            def noted() -> None:
                acked.append(record.offset)
                ack()

            decoded = codec_for(THREAD_INBOX).decode(record.value, record.headers)
            h.actor.submit(InboxItem(decoded, record.partition, noted))

        member.loop.handle = handle

    crashed = await members(inbox, group)
    await feed(crashed)
    await _poll_until([crashed], lambda: acked == [sent.offset])
    await crashed.loop.consumer.stop()  # died before committing (like kill -9)
    h.actor.store = h.store.restarted()
    successor = await members(inbox, group)
    await feed(successor)
    await _poll_until([successor], lambda: acked == [sent.offset, sent.offset])
    await successor.loop.commit()
    assert await successor.loop.consumer.committed(tp) == sent.offset + 1
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert len([e for e in events if e.key == command.key and isinstance(e, TurnStarted)]) == 1
    assert len(h.telegram.bot_messages(cid)) == 1


@dataclass
class SlowRestore(Hooks):
    """Hooks whose restore waits for ``release`` (a worker restoring many threads), saying
    so with ``restoring``."""

    restoring: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def assigned(self, partitions: set[int]) -> None:
        await super().assigned(partitions)
        if len(self.assigned_to) == 1:
            self.restoring.set()
            await self.release.wait()


async def test_records_fetched_while_a_new_assignment_is_restored_are_not_lost(
    members: Members, stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """A rebalance while the loop waits in ``getmany``: aiokafka activates the new assignment
    and fetches its records before our listener has restored it, and answers them to that
    ``getmany``. They must be handed out after the restore, not dropped (which moved the
    commit past them once later records were acked: a first message never handled)."""
    topic, group = f"{topic_prefix}inbox", f"{topic_prefix}group"
    await _topic(stack, broker_profile, topic, 0)
    member = await members(topic, group)
    await _poll_until([member], lambda: member.loop.owned != set())
    hooks = member.loop.hooks = SlowRestore()  # for the next assignment
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait(topic, f"r{n}".encode(), key=b"k", partition=0)
    finally:
        await producer.stop()
    real_getmany = member.loop.consumer.getmany

    async def getmany_in_flight_over_the_rebalance(*args: Any, **kwargs: Any) -> Any:
        await hooks.restoring.wait()  # the new assignment is active, its restore under way
        return await real_getmany(timeout_ms=5000)

    member.loop.consumer.getmany = getmany_in_flight_over_the_rebalance  # type: ignore[method-assign]
    polling = asyncio.create_task(member.loop.poll_once())
    other = make_consumer(stack.kafka_bootstrap, broker_profile, [], group_id=group, **QUICK_GROUP)
    await other.start()
    other.subscribe([f"{topic}-other"])  # a member of the group: everyone rebalances
    try:
        async with asyncio.timeout(30):
            await polling  # answered the new assignment's records
        member.loop.consumer.getmany = real_getmany  # type: ignore[method-assign]
        hooks.release.set()
        await _poll_until([member], lambda: len(member.handed) >= 3)
    finally:
        hooks.release.set()
        await other.stop()
    assert [offset for offset, _ in member.handed] == [0, 1, 2]

"""Recovery in the thread actor: a turn interrupted by a crash, taken over together with newer
commands; a command that met an unavailable broker."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic

from devkit.emulators.claude import WebSearchResult, text_reply, web_search_reply
from devkit.harness.thread import (
    Harness,
    billing_commands,
    message_command,
    reservation_commands,
    stop_command,
    thread_events,
)
from devkit.harness.topics import eventually
from devkit.stores import MemoryThreadStore
from events.billing import ReservationReleaseRequested
from events.thread import (
    AssistantMessageCompleted,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserMessageReceived,
)
from infra.endpoints import Endpoints
from infra.kafka.clients import make_admin, make_producer
from infra.kafka.compat import BrokerProfile
from infra.threads.actor import StoredThread
from infra.threads.telegram_output import TelegramOutput

TERMINAL = (TurnCompleted, TurnFailed, TurnCancelled)


async def _crash_mid_turn(h: Harness, cid: int, text: str) -> UserMessageReceived:
    """Start a turn streaming slowly, then lose the worker (no terminal event, no ack)."""
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    h.claude.script(text_reply("never " * 300, chunk_delay=0.05, chunk_size=6))
    cmd = message_command(cid, text, message_id=1)
    h.submit(cmd)
    await h.claude.wait_for_requests(1, timeout=10)
    await h.actor.stop()  # like kill -9: the turn's task is gone, its command unacked
    assert cmd.id not in h.acked
    h.actor.store = h.store.restarted()  # the next worker folds the stored snapshot + deltas
    return cmd


async def test_a_newer_message_in_the_takeover_batch_cancels_the_recovered_turn(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """The worker that takes the partition over gets the interrupted turn's command and the
    user's next message at once: the recovered turn ends exactly once (cancelled as
    superseded), it is never silently replaced, and the next message is answered."""
    h = harness
    cid = 7101
    first = await _crash_mid_turn(h, cid, "first try")
    h.claude.script(text_reply("the second answer"))
    second = message_command(cid, "second", message_id=2)
    h.submit(first)  # redelivered from the committed offset...
    h.submit(second)  # ...in the same fetch as the message sent while no worker ran
    await eventually(lambda: first.id in h.acked and second.id in h.acked, 20)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    mine = [e for e in events if e.key == first.key]
    turns = list(dict.fromkeys(e.turn_id for e in mine if isinstance(e, TurnStarted)))
    assert len(turns) == 2
    ends = {t: [type(e).__name__ for e in mine if isinstance(e, TERMINAL) and e.turn_id == t]
            for t in turns}  # fmt: skip
    assert ends == {turns[0]: ["TurnCancelled"], turns[1]: ["TurnCompleted"]}
    assert "the second answer" in (h.telegram.bot_messages(cid)[-1].text or "")


async def test_a_stop_in_the_takeover_batch_ends_the_recovered_turn_once(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """/stop right behind the redelivered command of an interrupted turn: the recovered turn
    ends exactly once, as stopped, and no turn is left running."""
    h = harness
    cid = 7102
    first = await _crash_mid_turn(h, cid, "will be stopped")
    stop = stop_command(cid)
    h.submit(first)
    h.submit(stop)
    await eventually(lambda: first.id in h.acked and stop.id in h.acked, 20)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    mine = [e for e in events if e.key == first.key]
    ends = [e for e in mine if isinstance(e, TERMINAL)]
    assert [(type(e).__name__, getattr(e, "reason", "")) for e in ends] == [
        ("TurnCancelled", "stop_command")
    ]
    stored = h.actor.store.load(first.key)
    assert stored is not None
    assert stored.state.running is None


class ChangelogStore(MemoryThreadStore):
    """The memory store whose every save is first written to a topic of the real broker (as
    the Faust table store writes its changelog), counting the attempts."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        super().__init__()
        self.producer = producer
        self.topic = topic
        self.attempts = 0

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        self.attempts += 1
        await self.producer.send_and_wait(self.topic, b"state", key=key.encode())
        await super().save(key, partition, stored)


async def test_a_command_that_met_an_unavailable_broker_is_handled_once_it_is_back(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """The state write of a message fails (the broker does not know the topic: as while it
    is down or electing leaders); the actor handles the message again after a pause, not
    only after a restart, and answers it once the topic is there."""
    h = harness
    cid = 7103
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    topic = f"{h.prefix}recovery.changelog"
    producer = make_producer(stack.kafka_bootstrap, broker_profile, request_timeout_ms=1000)
    await producer.start()
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        store = h.actor.store = ChangelogStore(producer, topic)
        h.claude.script(text_reply("answered after all"))
        cmd = message_command(cid, "are you there", message_id=1)
        h.submit(cmd)
        await eventually(lambda: store.attempts >= 2, 30)  # failed, and tried again
        assert cmd.id not in h.acked
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        await eventually(lambda: cmd.id in h.acked, 60)
    finally:
        await admin.close()
        await producer.stop()
    assert "answered after all" in (h.telegram.bot_messages(cid)[-1].text or "")
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    ends = [e for e in events if e.key == cmd.key and isinstance(e, TERMINAL)]
    assert [type(e).__name__ for e in ends] == ["TurnCompleted"]


class _LostAtTheSend(TelegramOutput):
    """The Telegram output of a worker that dies as it is about to send the final answer
    (the process is gone: the send never leaves, nothing after it runs)."""

    def __init__(self, real: TelegramOutput) -> None:
        self.__dict__.update(real.__dict__)
        self.reached = asyncio.Event()

    async def send_answer(self, *args: Any, **kwargs: Any) -> tuple[int, ...]:
        self.reached.set()
        raise asyncio.CancelledError  # as a kill -9 ends the turn: no terminal event, no ack


async def test_a_worker_lost_between_the_answer_and_its_send_answers_from_the_record(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """The answer is recorded (and its call charged) before it is sent: the worker that takes
    the turn over sends the recorded answer, without calling the model again; the turn
    completes once, naming the message, and the call is charged once."""
    h = harness
    cid = 7104
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    h.claude.script(text_reply("the recorded answer"))
    real = h.actor.runner.telegram
    lost = h.actor.runner.telegram = _LostAtTheSend(real)
    cmd = message_command(cid, "what is it", message_id=1)
    h.submit(cmd)
    await asyncio.wait_for(lost.reached.wait(), 20)
    await h.actor.stop()  # the worker is gone: its command unacked, the turn left running
    assert cmd.id not in h.acked
    assert not h.telegram.bot_messages(cid)
    h.actor.runner.telegram = real
    h.actor.store = h.store.restarted()
    h.submit(cmd)  # redelivered to the partition's next owner
    await eventually(lambda: cmd.id in h.acked, 30)

    assert len(h.claude.message_requests()) == 1
    assert [m.text for m in h.telegram.bot_messages(cid)] == ["the recorded answer"]
    events = [e for e in await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
              if e.key == cmd.key]  # fmt: skip
    (answer,) = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    assert answer.final
    (done,) = [e for e in events if isinstance(e, TERMINAL)]
    assert isinstance(done, TurnCompleted)
    assert done.answer == "the recorded answer"
    assert done.telegram_message_ids == (h.telegram.bot_messages(cid)[0].message_id,)
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert [(c.source_event_id, c.usage) for c in charges] == [(answer.id, answer.usage)]
    holds = await reservation_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert not [c for c in holds if isinstance(c, ReservationReleaseRequested)]


class _UnavailableFromTheAnswer(ChangelogStore):
    """From the answer's record on, every save goes to a topic the broker does not know yet
    (to the producer, a broker that cannot take the write) until the test creates it."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, missing: str) -> None:
        super().__init__(producer, topic)
        self.missing = missing
        self.failing = 0

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        running = stored.state.running
        if running is not None and running.answered:
            self.topic = self.missing
        self.failing += self.topic == self.missing
        await super().save(key, partition, stored)


async def test_a_turn_finishing_while_the_broker_is_unavailable_completes_once_it_is_back(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """The broker cannot take the answer's record: the write is tried again until it is back
    (the turn is not failed, which charged the call a second time when the record had
    landed); then the answer is sent once and the turn completes, its call charged once."""
    h = harness
    cid = 7105
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    topic, missing = f"{h.prefix}answer.changelog", f"{h.prefix}answer.changelog.later"
    producer = make_producer(stack.kafka_bootstrap, broker_profile, request_timeout_ms=1000)
    await producer.start()
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        store = h.actor.store = _UnavailableFromTheAnswer(producer, topic, missing)
        h.claude.script(text_reply("kept through the outage"))
        cmd = message_command(cid, "still there?", message_id=1)
        h.submit(cmd)
        await eventually(lambda: store.failing >= 2, 30)  # failed, and tried again
        assert not h.telegram.bot_messages(cid)
        assert cmd.id not in h.acked
        await admin.create_topics([NewTopic(missing, num_partitions=1, replication_factor=1)])
        await eventually(lambda: cmd.id in h.acked, 60)
    finally:
        await admin.close()
        await producer.stop()
    assert [m.text for m in h.telegram.bot_messages(cid)] == ["kept through the outage"]
    assert len(h.claude.message_requests()) == 1
    events = [e for e in await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
              if e.key == cmd.key]  # fmt: skip
    assert [type(e).__name__ for e in events if isinstance(e, TERMINAL)] == ["TurnCompleted"]
    (answer,) = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert [(c.source_event_id, c.usage) for c in charges] == [(answer.id, answer.usage)]


async def test_a_recorded_answer_is_sent_as_the_dead_worker_would_have_sent_it(
    tool_harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """The recorded answer keeps what the dead worker would have shown: the turn's trace line
    and its sources (recorded with the answer, not rebuilt from the model's text), sent as a
    reply to the question."""
    h = tool_harness
    cid = 7105
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    source = WebSearchResult(url="https://source.example/page", title="The source page")
    h.claude.script(web_search_reply("what is it", [source], "It is the recorded answer."))
    real = h.actor.runner.telegram
    lost = h.actor.runner.telegram = _LostAtTheSend(real)
    cmd = message_command(cid, "what is it", message_id=1)
    h.submit(cmd)
    await asyncio.wait_for(lost.reached.wait(), 20)
    await h.actor.stop()
    h.actor.runner.telegram = real
    h.actor.store = h.store.restarted()
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked, 30)

    assert len(h.claude.message_requests()) == 1
    (shown,) = h.telegram.bot_messages(cid)
    lines = (shown.text or "").splitlines()
    assert lines[0] == "🔍 searched the web"
    assert "It is the recorded answer." in lines
    assert "The source page" in lines[-1]
    assert any(e.get("url") == source.url for e in shown.entities)
    (call,) = [c for c in h.telegram.calls("sendMessage") if c.error is None]
    assert call.params.get("reply_to_message_id") == "1"  # form-encoded, as aiogram sends it

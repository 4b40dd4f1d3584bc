"""The users actor: a consumer-group worker over ``bot.users.commands``.

State is the fold of the actor's own ``bot.users.events``: before the first command of an
assigned partition ``p`` the worker reads events partition ``p`` from the start (the topics are
co-partitioned: same key, same partition count, same partitioner) before it handles any
command of that partition. Then, for each command in order:

1. decide against the user's state (:func:`actors.users.decide.decide`);
2. write the billing commands (the starter credit), wait for the ack;
3. write the user's events, wait for the ack, fold them into the state;
4. commit the command's offset.

A crash before 3 redelivers the command to an actor that still sees the user unregistered:
it decides the same again, and billing ignores the repeated operation id
``starter:{user_id}``. A crash after 3 redelivers it to an actor whose rebuilt state already
holds the events: it decides nothing. So a user is registered once and credited once.

Why aiokafka rather than a Faust table: the events topic is the state, so there is no second
copy (a changelog) that could disagree with it, and a partition's state is dropped on
revocation and folded again by its next owner before its first command is decided.

Test-only crash hook: with ``CLAUDEGRAM_TEST_CRASH=users-after-billing`` (``crash_after_billing``)
the process exits (status 137) right after the first billing command is acknowledged, before
the user's events are written.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from typing import Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord

from actors.thread.models import DEFAULT_MODEL
from actors.users.decide import UsersState, command_user_id, decide
from events.catalog import BILLING_COMMANDS, USERS_COMMANDS, USERS_EVENTS, UserCommand, with_prefix
from events.codec import DecodeError, codec_for
from events.usage import ModelId
from infra.bootstrap import Root
from infra.kafka.assignment_readiness import track_assignment
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.dead_letter import send_to_dead_letter
from infra.kafka.publisher import EventPublisher
from infra.kafka.read_to_end import read_to_end
from infra.metrics import DEAD_LETTERS
from infra.service_health import Readiness
from infra.users.metrics import USER_COMMANDS, USER_EVENTS

log = logging.getLogger(__name__)

GROUP_ID: Final = "users-actor"
CRASH_AFTER_BILLING: Final = "users-after-billing"
USERS_TOPICS: Final = (
    USERS_COMMANDS,
    USERS_EVENTS,
    BILLING_COMMANDS,
    USERS_COMMANDS.dead_letter(),
)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: UsersWorker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        for tp in revoked:
            self._worker.states.pop(tp.partition, None)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        # aiokafka may hand out records before this callback returns, so the fold happens
        # on a partition's first records (see UsersWorker._handle), not here
        self._worker.ready.set()


class UsersWorker:
    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        *,
        topic_prefix: str = "",
        group_id: str = GROUP_ID,
        crash_after_billing: bool = False,
        default_model: ModelId = DEFAULT_MODEL,
        readiness: Readiness | None = None,
    ) -> None:
        self.default_model = default_model
        self._readiness = readiness
        """The model new users start on (the ``DEFAULT_MODEL`` setting)."""
        self._bootstrap = bootstrap
        self._crash_after_billing = crash_after_billing
        self._profile = profile
        self._prefix = topic_prefix
        self._group_id = topic_prefix + group_id
        self.commands_topic = with_prefix(USERS_COMMANDS, topic_prefix).name
        self.events_topic = with_prefix(USERS_EVENTS, topic_prefix).name
        self.states: dict[int, UsersState] = {}
        self.ready = asyncio.Event()
        self._reader: AIOKafkaConsumer | None = None
        self._fold_lock = asyncio.Lock()

    async def state_of(self, partition: int, assigned: Iterable[int] = ()) -> UsersState:
        """The partition's state, folded from the events topic on first use, together with
        every other ``assigned`` partition not folded yet: one read for all of them (a read
        per partition costs a fetch round trip each, about a second apiece after a restart)."""
        async with self._fold_lock:
            state = self.states.get(partition)
            if state is None:
                await self.fold(sorted({partition, *assigned} - self.states.keys()))
                state = self.states[partition]
            return state

    async def fold(self, partitions: list[int]) -> None:
        """Rebuild the state of these partitions from the events topic, up to its end."""
        assert self._reader is not None
        codec = codec_for(USERS_EVENTS)
        fresh = {p: UsersState(self.default_model) for p in partitions}
        read = await read_to_end(
            self._reader, [TopicPartition(self.events_topic, p) for p in partitions]
        )
        async for tp, records in read.batches():
            state = fresh[tp.partition]
            for record in records:
                try:
                    state.apply(codec.decode(record.value, record.headers))
                except DecodeError as exc:
                    log.error(
                        "undecodable user event skipped while folding",
                        extra={"fields": {"reason": exc.reason, "offset": record.offset}},
                    )
        self.states.update(fresh)
        log.info(
            "users state folded",
            extra={"fields": {"partitions": partitions, "users": sum(map(len, fresh.values()))}},
        )

    async def run(self, stop: asyncio.Event) -> None:
        producer = make_producer(self._bootstrap, self._profile)
        consumer = make_consumer(self._bootstrap, self._profile, [], group_id=self._group_id)
        self._reader = make_consumer(self._bootstrap, self._profile, [], group_id=None)
        await producer.start()
        await self._reader.start()
        await consumer.start()
        publisher = EventPublisher(producer, topic_prefix=self._prefix)
        try:
            consumer.subscribe(
                [self.commands_topic],
                listener=track_assignment(_Rebalance(self), self._readiness, "users-worker"),
            )
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                for tp, records in batches.items():
                    await self._handle(consumer, publisher, producer, tp, records)
        finally:
            await consumer.stop()
            await self._reader.stop()
            await producer.stop()

    async def _handle(
        self,
        consumer: AIOKafkaConsumer,
        publisher: EventPublisher,
        producer: AIOKafkaProducer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> None:
        codec = codec_for(USERS_COMMANDS)
        assigned = (p.partition for p in consumer.assignment() if p.topic == tp.topic)
        state = await self.state_of(tp.partition, assigned)
        for record in records:
            try:
                command: UserCommand = codec.decode(record.value, record.headers)
            except DecodeError as exc:
                await send_to_dead_letter(
                    producer,
                    record,
                    exc.reason,
                    exc.detail,
                    dlq_topic=self.commands_topic + ".dlq",
                )
                DEAD_LETTERS.labels(topic=USERS_COMMANDS.name).inc()
            else:
                await self._apply(publisher, state, command)
            try:
                await self._commit(consumer, tp, record.offset + 1)
            except (CommitFailedError, KafkaError) as exc:
                # The fetch position is already past the rest of this batch: move it back to
                # the first unprocessed command, or they would be skipped until a restart.
                if tp in consumer.assignment():
                    consumer.seek(tp, record.offset + 1)
                log.warning(
                    "commit failed (rebalance?); command %d may be redelivered, the rest of "
                    "the batch will be fetched again: %s",
                    record.offset,
                    exc,
                )
                return

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        await consumer.commit({tp: offset})

    async def _apply(
        self, publisher: EventPublisher, state: UsersState, command: UserCommand
    ) -> None:
        decision = decide(state.get(command_user_id(command)), command)
        USER_COMMANDS.labels(outcome="noop" if decision.empty else "applied").inc()
        for billing in decision.billing:
            await publisher.publish(BILLING_COMMANDS, billing)
            if self._crash_after_billing:
                os._exit(137)
        for event in decision.events:
            await publisher.publish(USERS_EVENTS, event)
            state.apply(event)
            USER_EVENTS.labels(type=type(event).__name__).inc()


async def run_users_worker(
    root: Root, stop: asyncio.Event, *, topic_prefix: str | None = None
) -> None:
    """Run the users actor until ``stop`` is set (``botctl users-worker``)."""
    prefix = root.settings.topic_prefix if topic_prefix is None else topic_prefix
    report = await root.ensure_topics(USERS_TOPICS, name_prefix=prefix)
    for mismatch in report.mismatches:
        log.warning("topic differs from the catalog: %s", mismatch)
    if USERS_COMMANDS.partitions != USERS_EVENTS.partitions:
        raise RuntimeError("bot.users.commands and bot.users.events must be co-partitioned")
    await UsersWorker(
        root.bootstrap,
        await root.profile(),
        topic_prefix=prefix,
        crash_after_billing=root.settings.crash_after(CRASH_AFTER_BILLING) > 0,
        default_model=root.settings.default_model,
        readiness=root.readiness,
    ).run(stop)

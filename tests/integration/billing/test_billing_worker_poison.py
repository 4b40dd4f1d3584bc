"""One bad billing command never blocks its partition: rejected or dead-lettered, then on."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import msgspec
from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import ConsumerRecord
from billing_helpers import wait_for
from conftest import ADMIN_IDS, WorkerFactory

from actors.billing import commands
from actors.billing.ledger import BillingState, decide
from events.billing import OperationRejected, StarterCreditGranted
from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, BillingCommand, LedgerRecord
from events.codec import codec_for
from events.keys import user_key
from events.usage import ToolQuantities
from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

POISONED = 6660001
HEALTHY = 6660002


async def read_topic(
    stack: Endpoints, profile: BrokerProfile, topic: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` up to its current end."""
    reader = make_consumer(stack.kafka_bootstrap, profile, [], group_id=None)
    await reader.start()
    out: list[ConsumerRecord[bytes, bytes]] = []
    try:
        await reader.topics()
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
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


async def _ledger(stack: Endpoints, profile: BrokerProfile, prefix: str) -> list[LedgerRecord]:
    codec = codec_for(BILLING_LEDGER)
    records = await read_topic(stack, profile, prefix + BILLING_LEDGER.name)
    return [codec.decode(r.value) for r in records]


async def test_an_infinite_quantity_is_a_rejection_and_the_partition_moves_on(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    billing_worker: WorkerFactory,
) -> None:
    """A raw command with sandbox_seconds "Infinity" is recorded as invalid_amount and the
    commands after it on the same partition are applied (it used to loop forever)."""
    codec = codec_for(BILLING_COMMANDS)
    poison = commands.usage_charge(
        POISONED,
        tool_name="t",
        tool_quantities=ToolQuantities(sandbox_seconds=Decimal(1)),
        source="tool_call",
    )
    key, value, headers = codec.encode(poison)
    obj = json.loads(value)
    obj["tool_quantities"]["sandbox_seconds"] = "Infinity"
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        topic = billing_topics + BILLING_COMMANDS.name
        await producer.send_and_wait(topic, json.dumps(obj).encode(), key=key, headers=headers)
        for uid in (POISONED, HEALTHY):
            k, v, h = codec.encode(commands.starter_credit(uid))
            await producer.send_and_wait(topic, v, key=k, headers=h)
    finally:
        await producer.stop()
    async with billing_worker() as worker:
        await wait_for(lambda: worker.stats.commands >= 3 and worker.stats.batches >= 1)
        healthy = worker.state_of(HEALTHY)
        assert healthy is not None
        assert healthy.balance == Decimal("1.00")
    entries = await _ledger(stack, broker_profile, billing_topics)
    rejected = [e for e in entries if isinstance(e, OperationRejected)]
    assert [(e.user_id, e.reason) for e in rejected] == [(POISONED, "invalid_amount")]
    assert "sandbox_seconds" in rejected[0].detail
    assert len([e for e in entries if isinstance(e, StarterCreditGranted)]) == 2


async def test_a_command_whose_decision_raises_is_dead_lettered_and_the_rest_applied(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """If decide raises for one command it goes to the .dlq topic with its reason and the
    worker commits and goes on (it used to re-fold and rewind to the same command forever)."""

    def failing(state: BillingState, command: BillingCommand, now: datetime) -> list[LedgerRecord]:
        if command.user_id == POISONED:
            raise ArithmeticError("boom")
        return decide(state, command, now, privileged=ADMIN_IDS)

    async with billing_worker(decide=failing) as worker:
        await publisher.publish(BILLING_COMMANDS, commands.starter_credit(POISONED))
        await publisher.publish(BILLING_COMMANDS, commands.starter_credit(HEALTHY))
        await wait_for(lambda: worker.state_of(HEALTHY) is not None and worker.stats.batches >= 1)
        await wait_for(lambda: worker.stats.dead_letters == 1)
        healthy = worker.state_of(HEALTHY)
        assert healthy is not None
        assert healthy.balance == Decimal("1.00")
    dead = await read_topic(stack, broker_profile, billing_topics + BILLING_COMMANDS.name + ".dlq")
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["dlq-reason"] == b"decide_failed"
    assert b"boom" in headers["dlq-detail"]
    # Committed past it: a fresh worker with the real decide does not see it again.
    async with billing_worker() as again:
        await publisher.publish(BILLING_COMMANDS, commands.starter_credit(HEALTHY + 1))
        await wait_for(lambda: again.state_of(HEALTHY + 1) is not None)
        assert (again.state_of(POISONED) or BillingState()).entries == 0


async def test_a_command_on_the_wrong_partition_for_its_key_is_dead_lettered(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    billing_worker: WorkerFactory,
) -> None:
    """A starter credit written to a partition its key does not hash to (murmur2, the
    producers' partitioner) would open a second state for the user there: it is parked in
    the .dlq topic (wrong_partition) and the user's own partition keeps the only state."""
    uid = 6660003
    key = user_key(uid).encode()
    partitions = list(range(BILLING_COMMANDS.partitions))
    right = DefaultPartitioner()(key, partitions, None)
    wrong = (right + 1) % len(partitions)
    codec = codec_for(BILLING_COMMANDS)
    topic = billing_topics + BILLING_COMMANDS.name
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        k, v, h = codec.encode(commands.starter_credit(uid))
        await producer.send_and_wait(topic, v, key=k, headers=h, partition=right)
        mis = commands.starter_credit(uid)
        mis = msgspec.structs.replace(mis, operation_id="starter:elsewhere")
        k, v, h = codec.encode(mis)
        await producer.send_and_wait(topic, v, key=k, headers=h, partition=wrong)
    finally:
        await producer.stop()
    async with billing_worker() as worker:
        await wait_for(lambda: worker.stats.commands >= 2 and worker.stats.dead_letters >= 1)
        assert [p for p, states in worker._ledger.states.items() if user_key(uid) in states] == [
            right
        ]
        state = worker.state_of(uid)
        assert state is not None
        assert state.balance == Decimal("1.00")
    dead = await read_topic(stack, broker_profile, topic + ".dlq")
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["dlq-reason"] == b"wrong_partition"
    assert dead[0].value == v

"""The billing actor on the real broker: no lost update, no double charge, replay = live."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
from billing_helpers import WorkerFactory, fixed_clock, wait_for

from actors.billing import commands
from actors.billing.ledger import CONFLICTING_DUPLICATE, BillingState
from actors.billing.payments import InvoicePayload
from actors.thread.models import SONNET
from devkit.harness.topics import read_ledger
from events.billing import OperationRejected, RefundDebited
from events.catalog import BILLING_COMMANDS, BillingCommand
from events.usage import Usage
from infra.billing.replay import replay_ledger
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.metrics import REGISTRY

UID = 5551234


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _payment(uid: int, charge: str, stars: int = 100) -> BillingCommand:
    payload = InvoicePayload(uid, "a" * 32, stars, Decimal(0)).encode()
    return commands.payment_credit(
        uid, charge, stars, invoice_payload=payload, owner_margin=Decimal(0)
    )


async def test_concurrent_operations_for_one_user_from_many_producers_lose_no_update(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """12 producers charge, credit and refund one user at once; every op applied once and
    the balance is exactly the sum; replay of the ledger equals the live state."""
    async with billing_worker(batch_max=64) as worker:
        await publisher.publish(BILLING_COMMANDS, commands.admin_top_up(UID, Decimal(100), 1))
        payments = [_payment(UID, f"ch{i}") for i in range(6)]
        await publisher.publish_all([(BILLING_COMMANDS, p) for p in payments])
        await wait_for(lambda: (worker.state_of(UID) or _empty()).entries == 7)

        async def producer_task(n: int) -> list[BillingCommand]:
            producer = make_producer(stack.kafka_bootstrap, broker_profile)
            await producer.start()
            sent: list[BillingCommand] = []
            try:
                own = EventPublisher(producer, topic_prefix=billing_topics)
                rnd = random.Random(n)
                for i in range(40):
                    choice = rnd.random()
                    if choice < 0.6:
                        cmd: BillingCommand = commands.usage_charge(
                            UID, model=SONNET, usage=Usage(input_tokens=rnd.randint(1, 9999))
                        )
                    elif choice < 0.9:
                        cmd = commands.admin_top_up(UID, Decimal(rnd.randint(1, 500)) / 100, 1)
                    else:
                        cmd = commands.refund_debit(UID, f"ch{rnd.randrange(6)}")
                    await own.publish(BILLING_COMMANDS, cmd)
                    sent.append(cmd)
                    if i % 10 == 0:
                        await asyncio.sleep(0)
            finally:
                await producer.stop()
            return sent

        results = await asyncio.gather(*(producer_task(n) for n in range(12)))
        sent = [cmd for batch in results for cmd in batch]
        total_ops = 7 + len(sent)
        await wait_for(lambda: (worker.state_of(UID) or _empty()).entries == total_ops, 120)
        live = worker.state_of(UID)
        assert live is not None

    entries = [
        e
        for e in await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
        if e.key == str(UID)
    ]
    ops = Counter(e.operation_id for e in entries)
    assert len(entries) == total_ops
    assert all(n == 1 for n in ops.values())
    assert live.balance == sum((e.amount for e in entries), Decimal(0))
    refunds = [e for e in entries if isinstance(e, RefundDebited)]
    assert len(refunds) == len({e.telegram_payment_charge_id for e in refunds}) <= 6
    replayed = await replay_ledger(
        stack.kafka_bootstrap, broker_profile, topic_prefix=billing_topics
    )
    assert replayed[str(UID)].balance == live.balance
    assert replayed[str(UID)].operations == live.operations
    assert replayed[str(UID)].balance_mismatches == 0


def _empty() -> BillingState:
    return BillingState()


async def test_duplicates_apply_once_and_a_conflicting_duplicate_is_rejected(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """The same operation three times (and once re-enveloped) is one entry; the same id
    with another payload is one conflicting_duplicate rejection."""
    charge = commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=1000))
    again = msgspec.structs.replace(charge, id=commands.starter_credit(1).id)
    conflicting = msgspec.structs.replace(charge, usage=Usage(input_tokens=5))
    cost_before = _sample("claudegram_cost_usd_total", model=SONNET, tool="-")
    tokens_before = _sample("claudegram_tokens_total", model=SONNET, kind="input")
    async with billing_worker() as worker:
        for cmd in (charge, charge, again, charge, conflicting, conflicting):
            await publisher.publish(BILLING_COMMANDS, cmd)
        await wait_for(lambda: worker.stats.commands >= 6)
    # the operator's money counters count the one debit once, not the repeats
    cost = _sample("claudegram_cost_usd_total", model=SONNET, tool="-") - cost_before
    assert round(cost, 9) == 0.003
    assert _sample("claudegram_tokens_total", model=SONNET, kind="input") - tokens_before == 1000
    entries = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    assert [type(e).__name__ for e in entries] == ["UsageDebited", "OperationRejected"]
    rejected = entries[1]
    assert isinstance(rejected, OperationRejected)
    assert rejected.reason == CONFLICTING_DUPLICATE
    assert rejected.operation_id == charge.operation_id
    assert entries[0].amount == -Decimal("0.003")


async def test_refunds_are_refused_with_a_reason(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """Older than 30 days, requested by someone else, above the balance: each refused."""
    paid_at = datetime.now(UTC) - timedelta(days=40)
    async with billing_worker(clock=fixed_clock(paid_at)) as worker:
        await publisher.publish(BILLING_COMMANDS, _payment(UID, "old"))
        await wait_for(lambda: worker.stats.commands >= 1)
    async with billing_worker() as worker:
        await publisher.publish(BILLING_COMMANDS, _payment(UID, "new"))
        await publisher.publish(BILLING_COMMANDS, commands.refund_debit(UID, "old"))
        await publisher.publish(
            BILLING_COMMANDS, commands.refund_debit(UID, "new", requested_by=77)
        )
        await publisher.publish(BILLING_COMMANDS, commands.refund_debit(77, "new"))
        await publisher.publish(
            BILLING_COMMANDS,
            commands.usage_charge(UID, model=SONNET, usage=Usage(output_tokens=50_000)),
        )
        await publisher.publish(BILLING_COMMANDS, commands.refund_debit(UID, "new"))
        await wait_for(lambda: worker.stats.commands >= 6)
    rejections = [
        e
        for e in await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
        if isinstance(e, OperationRejected)
    ]
    assert sorted((e.user_id, e.reason) for e in rejections) == sorted(
        [
            (UID, "refund_window_expired"),
            (UID, "not_payer"),
            (77, "unknown_payment"),
            (UID, "balance_too_low"),
        ]
    )
    assert all(e.detail for e in rejections)


async def test_partitions_move_between_two_workers_without_loss_or_double_charge(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """A second worker joins mid-stream: revoke, fold and resume; each op exactly once."""
    users = list(range(100, 124))
    sent: list[BillingCommand] = []
    async with billing_worker(batch_max=32) as first:
        for round_ in range(3):
            batch = [
                commands.usage_charge(u, model=SONNET, usage=Usage(input_tokens=100 + round_))
                for u in users
            ]
            await publisher.publish_all([(BILLING_COMMANDS, c) for c in batch])
            sent += batch
        async with billing_worker(batch_max=32) as second:
            for round_ in range(3, 6):
                batch = [
                    commands.usage_charge(u, model=SONNET, usage=Usage(input_tokens=100 + round_))
                    for u in users
                ]
                await publisher.publish_all([(BILLING_COMMANDS, c) for c in batch])
                sent += batch

            def done() -> bool:
                total: int = sum(
                    (w.state_of(u) or _empty()).entries for u in users for w in (first, second)
                )
                return total >= len(sent)

            await wait_for(done, 120)
            assert first.stats.commands > 0
            assert second.stats.commands > 0
    entries = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    ops = Counter((e.key, e.operation_id) for e in entries)
    assert len(ops) == len(sent)
    assert set(ops.values()) == {1}


async def test_the_operator_sees_active_users_and_balances_below_zero(
    billing_topics: str, publisher: EventPublisher, billing_worker: WorkerFactory
) -> None:
    """A user charged with nothing on their balance counts as active (last hour and day) and
    below zero; topped up again, no longer below zero."""
    uid = UID + 7
    active_before = _sample("claudegram_active_users", window="1h")
    async with billing_worker() as worker:
        charge = commands.usage_charge(uid, model=SONNET, usage=Usage(input_tokens=1000))
        await publisher.publish(BILLING_COMMANDS, charge)
        await wait_for(lambda: (worker.state_of(uid) or _empty()).entries == 1)
        assert (worker.state_of(uid) or _empty()).balance < 0
        assert _sample("claudegram_balances_below_zero") == 1
        # counted once the batch is appended and committed, just after the state changed
        await wait_for(lambda: _sample("claudegram_active_users", window="1h") > active_before)
        assert _sample("claudegram_active_users", window="1h") == active_before + 1
        assert _sample("claudegram_active_users", window="24h") >= active_before + 1
        await publisher.publish(BILLING_COMMANDS, commands.admin_top_up(uid, Decimal(1), 1))
        await wait_for(lambda: (worker.state_of(uid) or _empty()).entries == 2)
        assert _sample("claudegram_balances_below_zero") == 0

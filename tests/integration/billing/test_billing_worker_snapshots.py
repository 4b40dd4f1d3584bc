"""The billing worker starts from snapshots plus the ledger's tail, not from offset zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from billing_helpers import WorkerFactory, wait_for

from actors.billing import commands
from actors.billing.ledger import BillingState
from actors.thread.models import SONNET
from devkit.harness.topics import read_ledger
from events.billing import OperationRejected, UsageDebited
from events.catalog import BILLING_COMMANDS, BillingCommand
from events.usage import Usage
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

USERS = (8101, 8102, 8103)
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _charges(at: datetime, n: int) -> list[BillingCommand]:
    return [
        commands.usage_charge(uid, model=SONNET, usage=Usage(input_tokens=100 + i), occurred_at=at)
        for i in range(n)
        for uid in USERS
    ]


def _facts(state: BillingState | None) -> tuple[object, ...]:
    assert state is not None
    return (
        state.balance,
        state.entries,
        state.operations | state.previous_operations,
        {k: (p.credited, p.refunded) for k, p in state.payments.items()},
        state.reservations,
    )


async def test_a_restarted_worker_restores_snapshots_and_folds_only_the_tail(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """Rounds are written every 30 entries; a new worker restores the same states (balances,
    payments, remembered operation ids) folding only the entries after the last round, and
    a redelivered old command is still a repeat."""
    setup = [commands.admin_top_up(uid, Decimal(10), 1, occurred_at=T0) for uid in USERS]
    first = setup + _charges(T0, 30)
    async with billing_worker(snapshot_every=30, clock=lambda: T0) as worker:
        await publisher.publish_all([(BILLING_COMMANDS, c) for c in first])
        await wait_for(lambda: worker.stats.entries >= len(first) and worker.stats.batches > 0)
        await wait_for(lambda: worker.stats.snapshot_rounds >= 1)
        before = {uid: _facts(worker.state_of(uid)) for uid in USERS}
    async with billing_worker(snapshot_every=30, clock=lambda: T0) as again:
        assert again.stats.snapshots_restored == len(USERS)
        assert again.stats.tail_folded < len(first)
        assert {uid: _facts(again.state_of(uid)) for uid in USERS} == before
        repeat = first[-1]
        await publisher.publish(BILLING_COMMANDS, repeat)
        await wait_for(lambda: again.stats.commands >= 1)
        assert again.stats.repeats == 1
        assert {uid: _facts(again.state_of(uid)) for uid in USERS} == before


async def test_after_a_window_only_its_ledger_is_reread_and_older_commands_are_refused(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """Rounds 40 days apart: a restart re-reads the ledger from the older round on (not from
    zero), and a command from before that window is refused as operation_expired, never
    charged twice."""
    old = [commands.admin_top_up(uid, Decimal(10), 1, occurred_at=T0) for uid in USERS]
    old += _charges(T0, 10)
    later = T0 + timedelta(days=40)
    async with billing_worker(snapshot_every=10, clock=lambda: T0) as worker:
        await publisher.publish_all([(BILLING_COMMANDS, c) for c in old])
        await wait_for(lambda: worker.stats.entries >= len(old))
        await wait_for(lambda: worker.stats.snapshot_rounds >= 1)
    recent = _charges(later, 10)
    async with billing_worker(snapshot_every=10, clock=lambda: later) as worker:
        await publisher.publish_all([(BILLING_COMMANDS, c) for c in recent])
        await wait_for(lambda: worker.stats.entries >= len(recent))
        await wait_for(lambda: worker.stats.snapshot_rounds >= 1)
        balances = {uid: (worker.state_of(uid) or BillingState()).balance for uid in USERS}
    async with billing_worker(snapshot_every=10, clock=lambda: later) as worker:
        assert worker.stats.ids_relearnt + worker.stats.tail_folded < len(old) + len(recent)
        stale = old[-1]
        await publisher.publish(BILLING_COMMANDS, stale)
        await wait_for(lambda: worker.stats.commands >= 1)
        assert {uid: (worker.state_of(uid) or BillingState()).balance for uid in USERS} == (
            balances
        )
    ledger = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    [refused] = [e for e in ledger if isinstance(e, OperationRejected)]
    assert refused.reason == "operation_expired"
    assert refused.operation_id == stale.operation_id
    assert sum(1 for e in ledger if isinstance(e, UsageDebited)) == len(old) - 3 + len(recent)

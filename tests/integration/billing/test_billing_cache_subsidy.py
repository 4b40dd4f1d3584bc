"""The cache-write subsidy on the real broker: the billing worker prices charges under the
``admin.cache_subsidy_changed`` records of ``bot.admin.events``, and replaying the ledger
gives the balance the live worker holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from billing_helpers import ADMIN_IDS, WorkerFactory, wait_for

from actors.billing import commands
from actors.billing.pricing import line_amount
from actors.thread.models import SONNET
from devkit.harness.topics import read_ledger
from events.admin import CacheSubsidyChanged
from events.billing import UsageDebited
from events.catalog import ADMIN_EVENTS, BILLING_COMMANDS
from events.envelope import new_envelope
from events.keys import GLOBAL_KEY
from events.usage import Usage
from infra.billing.replay import replay_ledger
from infra.billing.views import CacheSubsidyView
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.metrics import REGISTRY

UID = 5557001
ADMIN = min(ADMIN_IDS)
T0 = datetime(2026, 12, 10, tzinfo=UTC)
USAGE = Usage(input_tokens=1_000, output_tokens=2_000, cache_creation_5m_input_tokens=10_000)


def _switch(on: bool, minute: int, admin: int = ADMIN) -> CacheSubsidyChanged:
    return CacheSubsidyChanged(
        **new_envelope(key=GLOBAL_KEY, producer="test", occurred_at=T0 + timedelta(minutes=minute)),
        subsidized=on,
        admin_user_id=admin,
    )


async def test_the_worker_charges_cache_writes_only_while_the_subsidy_is_off(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """Switched on at minute 5 (and "off" by a non-admin at minute 6, ignored), off at 25:
    charges of minutes 0 and 30 pay $0.0705, those of 10 and 20 $0.033 (Sonnet: the
    10,000 5-minute cache writes, $0.0375, are the bot's); the entries say so, every line
    recomputes, and the replayed ledger has the live balance."""
    await publisher.publish_all(
        [
            (ADMIN_EVENTS, _switch(True, 5)),
            (ADMIN_EVENTS, _switch(False, 6, admin=424242)),
            (ADMIN_EVENTS, _switch(False, 25)),
        ]
    )
    async with billing_worker() as worker:
        await publisher.publish(BILLING_COMMANDS, commands.admin_top_up(UID, Decimal(5), ADMIN))
        charges = [
            commands.usage_charge(
                UID, model=SONNET, usage=USAGE, occurred_at=T0 + timedelta(minutes=m)
            )
            for m in (0, 10, 20, 30)
        ]
        await publisher.publish_all([(BILLING_COMMANDS, c) for c in charges])
        await wait_for(lambda: (s := worker.state_of(UID)) is not None and s.entries == 5)
        live = worker.state_of(UID)
        assert live is not None
    ledger = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    debits = sorted(
        (e for e in ledger if isinstance(e, UsageDebited) and e.user_id == UID),
        key=lambda e: e.operation_id,
    )
    by_operation = {c.operation_id: c.occurred_at for c in charges}
    debits.sort(key=lambda e: by_operation[e.operation_id])
    assert [-d.amount for d in debits] == [
        Decimal(x) for x in ("0.0705", "0.033", "0.033", "0.0705")
    ]
    assert [d.cache_writes_subsidized for d in debits] == [False, True, True, False]
    assert all(line_amount(line) == line.amount for d in debits for line in d.lines)
    assert live.balance == Decimal(5) - Decimal("0.207")
    replayed = await replay_ledger(
        stack.kafka_bootstrap, broker_profile, topic_prefix=billing_topics
    )
    assert replayed[str(UID)].balance == live.balance


async def test_a_batch_waits_for_the_subsidy_schedule_rather_than_be_priced_without_it(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """A worker that cannot read the admin topic (its schedule's reader points at a closed
    port) holds its batches instead of pricing them as if no switch had been made (a ledger
    entry is final; in CI, on a loaded machine, a first read over 2 s once charged a
    subsidized minute in full). The next worker, which can read it, charges the minute
    inside the subsidized window $0.033."""
    uid = UID + 1
    await publisher.publish(ADMIN_EVENTS, _switch(True, 5))
    await publisher.publish(BILLING_COMMANDS, commands.admin_top_up(uid, Decimal(5), ADMIN))
    charge = commands.usage_charge(
        uid, model=SONNET, usage=USAGE, occurred_at=T0 + timedelta(minutes=10)
    )
    await publisher.publish(BILLING_COMMANDS, charge)
    unread = CacheSubsidyView("127.0.0.1:1", broker_profile, privileged=ADMIN_IDS)
    held_before = _held()
    async with billing_worker(subsidy=unread) as blind:
        await wait_for(lambda: _held() >= held_before + 2)  # held, and tried again
        assert blind.state_of(uid) is None or blind.state_of(uid).entries == 0
    async with billing_worker() as worker:
        await wait_for(lambda: (s := worker.state_of(uid)) is not None and s.entries == 2)
    ledger = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    (debit,) = [e for e in ledger if isinstance(e, UsageDebited) and e.user_id == uid]
    assert debit.amount == -Decimal("0.033")


def _held() -> float:
    return REGISTRY.get_sample_value("claudegram_billing_subsidy_unread_total") or 0.0

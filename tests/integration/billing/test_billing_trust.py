"""Money and trust on the real broker and the Telegram emulator: forged admin records,
refunds outside the bot, usage in flight and /refund, the payments process's failure paths."""

from __future__ import annotations

from decimal import Decimal

from billing_helpers import (
    ADMIN,
    PAYER,
    GatewayFactory,
    PaymentsFactory,
    WorkerFactory,
    pay_50_stars,
    refund_debit_entry,
    wait_for,
)

from actors.billing import commands
from actors.billing.ledger import BillingState
from actors.billing.payments import InvoicePayload
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import feed
from devkit.harness.topics import read_ledger, read_records
from events.admin import MarginChanged
from events.billing import (
    OperationRejected,
    RefundedPaymentDebited,
    RefundReversed,
)
from events.catalog import ADMIN_EVENTS, BILLING_COMMANDS, BILLING_LEDGER
from events.envelope import new_envelope
from infra.billing.views import MarginView
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

FORGER = 6661


def _state(worker: object, uid: int) -> BillingState:
    return worker.state_of(uid) or BillingState()  # type: ignore[attr-defined]


async def test_a_top_up_written_to_the_commands_topic_by_an_unprivileged_id_is_rejected(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
) -> None:
    """A billing.admin_top_up_requested produced straight to the topic (the Kafka UI's
    write path) names an id outside PRIVILEGED_USER_IDS: the ledger refuses it with
    not_privileged (it used to credit $500); the configured admin's top-up is applied."""
    async with billing_worker(privileged_user_ids=frozenset({ADMIN})) as worker:
        await publisher.publish(
            BILLING_COMMANDS, commands.admin_top_up(PAYER, Decimal(500), FORGER)
        )
        await publisher.publish(BILLING_COMMANDS, commands.admin_top_up(PAYER, Decimal(2), ADMIN))
        await wait_for(lambda: _state(worker, PAYER).entries >= 2)
        assert _state(worker, PAYER).balance == Decimal(2)
    ledger = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    [refused] = [e for e in ledger if isinstance(e, OperationRejected)]
    assert refused.reason == "not_privileged"
    assert str(FORGER) in refused.detail


async def test_a_forged_margin_change_never_reaches_an_invoice(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
) -> None:
    """admin.margin_changed by an unprivileged id, or one at k1 + k2 + k3 >= 1, is ignored
    by the margin view; a privileged, valid change is taken."""
    view = MarginView(
        stack.kafka_bootstrap,
        broker_profile,
        topic_prefix=billing_topics,
        privileged=frozenset({ADMIN}),
    )
    try:

        def change(margin: str, admin: int) -> MarginChanged:
            return MarginChanged(
                **new_envelope(key="global", producer="forger"),
                owner_margin=Decimal(margin),
                admin_user_id=admin,
            )

        await publisher.publish(ADMIN_EVENTS, change("0.3", FORGER))
        assert await view.current() == 0
        await publisher.publish(ADMIN_EVENTS, change("0.5", ADMIN))
        assert await view.current() == 0
        await publisher.publish(ADMIN_EVENTS, change("0.1", ADMIN))
        assert await view.current() == Decimal("0.1")
        assert view.ignored == 2
    finally:
        await view.close()


async def test_a_refund_made_outside_the_bot_is_debited_exactly_once(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
) -> None:
    """A refunded_payment service message (delivered twice, then a second message about the
    same charge) debits the payment's credit once (it used to be ignored: the user kept
    the credit and the Stars)."""
    telegram_emulator.add_private_chat(PAYER)
    async with (
        billing_gateway() as gw,
        billing_worker() as worker,
    ):
        invoice = await pay_50_stars(gw, telegram_emulator, "stxOUT")
        await wait_for(lambda: _state(worker, PAYER).balance > 0)
        refund = {
            "message": {
                "message_id": 9901,
                "date": 1_780_000_000,
                "chat": {"id": PAYER, "type": "private", "first_name": "P"},
                "from": telegram_emulator.world.user_json(PAYER),
                "refunded_payment": {
                    "currency": "XTR",
                    "total_amount": 50,
                    "invoice_payload": invoice.payload,
                    "telegram_payment_charge_id": "stxOUT",
                },
            }
        }
        again = {"message": {**refund["message"], "message_id": 9902}}
        for update in (refund, refund, again):
            await feed(gw, telegram_emulator.inject_update(update))
        await wait_for(lambda: worker.stats.commands >= 4)
        assert _state(worker, PAYER).balance == 0
        assert _state(worker, PAYER).payments["stxOUT"].refunded
    ledger = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    debits = [e for e in ledger if isinstance(e, RefundedPaymentDebited)]
    assert [(d.telegram_payment_charge_id, d.amount) for d in debits] == [
        ("stxOUT", Decimal("-0.325"))
    ]


async def test_refund_refused_by_telegram_then_a_429_on_the_notice_refunds_nothing_twice(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
    payments_process: PaymentsFactory,
) -> None:
    """Telegram refuses refundStarPayment; the reversal is published; telling the user hits
    a flood limit. refundStarPayment is called once (the operation was not remembered before
    the notice, so the retried batch called it again, after the reversal), the debit is
    reversed once and the user still gets the notice."""
    telegram_emulator.add_private_chat(PAYER)
    async with (
        billing_gateway() as gw,
        billing_worker() as worker,
    ):
        await pay_50_stars(gw, telegram_emulator, "stx429")
        await wait_for(lambda: _state(worker, PAYER).balance > 0)
        credited = _state(worker, PAYER).balance
        await feed(gw, telegram_emulator.send_command(PAYER, "refund", "stx429", user_id=PAYER))
        await wait_for(lambda: _state(worker, PAYER).payments["stx429"].refunded)
        # The payments process starts only now, so both failures hit its own calls.
        telegram_emulator.fail_next(
            "refundStarPayment", error_code=400, description="Bad Request: REFUND_NOT_ALLOWED"
        )
        telegram_emulator.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=PAYER)
        before = len(telegram_emulator.bot_messages(PAYER))
        async with payments_process():
            await wait_for(lambda: _state(worker, PAYER).entries >= 3, 90)
            await wait_for(lambda: len(telegram_emulator.bot_messages(PAYER)) > before, 60)
        assert _state(worker, PAYER).balance == credited
        assert len(telegram_emulator.calls("refundStarPayment")) == 1
        assert "REFUND_NOT_ALLOWED" in (telegram_emulator.bot_messages(PAYER)[-1].text or "")
    ledger = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    assert len([e for e in ledger if isinstance(e, RefundReversed)]) == 1


async def test_a_ledger_record_the_payments_process_cannot_decode_is_dead_lettered(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    payments_process: PaymentsFactory,
) -> None:
    """A broken ledger record goes to bot.billing.ledger.dlq with its reason (it used to be
    skipped silently) and the refund after it is still made."""
    telegram_emulator.add_private_chat(PAYER)
    entry = refund_debit_entry("stxDLQ", "d" * 32)
    payload = InvoicePayload(PAYER, "d" * 32, 50, Decimal(0)).encode()
    telegram_emulator.successful_payment(PAYER, 50, payload, user_id=PAYER, charge_id="stxDLQ")
    topic = billing_topics + BILLING_LEDGER.name
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"type": "ledger.refund_debited", "v": 1}', key=b"1")
    finally:
        await producer.stop()
    async with payments_process() as process:
        await publisher.publish(BILLING_LEDGER, entry)
        await wait_for(lambda: process.handled >= 1 and process.dead_letters >= 1, 60)
        await wait_for(lambda: len(telegram_emulator.calls("refundStarPayment")) == 1, 60)
    dead = await read_records(stack.kafka_bootstrap, broker_profile, topic + ".dlq")
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["dlq-reason"]
    assert b"payments process" in headers["dlq-detail"]

"""/pay, pre-checkout, payment, /refund, /balance and admin commands through aiogram's
Dispatcher against the Telegram emulator, the real broker and a running billing worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from billing_helpers import wait_for
from conftest import WorkerFactory

from actors.billing import commands
from actors.billing.ledger import BillingState, decide, evolve
from actors.billing.payments import InvoicePayload
from devkit.emulators.telegram import TelegramEmulator
from events.admin import MarginChanged
from events.billing import AdminToppedUp, PaymentCredited, RefundDebited
from events.catalog import ADMIN_EVENTS, BILLING_LEDGER
from events.ids import new_id
from infra.billing.payments_process import MAX_REFUND_ATTEMPTS, PaymentsProcess
from infra.billing.views import LedgerFoldView, TopicTail
from infra.endpoints import Endpoints
from infra.gateway.context import GatewayContext
from infra.gateway.durable import DurablePublisher
from infra.gateway.routers import admin, billing, payments
from infra.gateway.services import GatewayServices
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.settings import Secret, Settings

PAYER = 7001
OTHER = 7002
ADMIN = 9001


class Gateway:
    """A Dispatcher with the billing routers, fed with the emulator's updates; ``feed``
    returns once the update's replies are sent."""

    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.services = GatewayServices.create(ctx)
        self.dp = Dispatcher()
        self.dp.include_routers(
            *(module.build_router(ctx, self.services) for module in (payments, billing, admin))
        )

    async def feed(self, update: dict[str, Any]) -> None:
        bot = self.ctx.bot
        await self.dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
        await self.services.replies.drain(timeout=30)

    async def close(self) -> None:
        await self.services.close()
        await self.dp.emit_shutdown()


@contextlib.asynccontextmanager
async def gateway(
    stack: Endpoints,
    telegram_emulator: TelegramEmulator,
    bot: Bot,
    publisher: EventPublisher,
    balances: LedgerFoldView,
) -> AsyncIterator[Gateway]:
    telegram_emulator.configure_flood(enabled=False)  # flood limits are the gateway's concern
    settings = Settings(
        telegram_bot_token=Secret(telegram_emulator.token),
        telegram_api_url=telegram_emulator.base_url,
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        privileged_user_ids=frozenset({ADMIN}),
    )
    ctx = GatewayContext(
        settings=settings, bot=bot, publisher=DurablePublisher(publisher), balances=balances
    )
    gw = Gateway(ctx)
    try:
        yield gw
    finally:
        await gw.close()


@contextlib.asynccontextmanager
async def balance_view(
    stack: Endpoints, profile: BrokerProfile, prefix: str
) -> AsyncIterator[LedgerFoldView]:
    view = LedgerFoldView(stack.kafka_bootstrap, profile, topic_prefix=prefix)
    try:
        yield view
    finally:
        await view.close()


@contextlib.asynccontextmanager
async def payments_process(
    stack: Endpoints, profile: BrokerProfile, prefix: str, bot: Bot
) -> AsyncIterator[PaymentsProcess]:
    process = PaymentsProcess(stack.kafka_bootstrap, profile, bot, topic_prefix=prefix)
    stop = asyncio.Event()
    task = asyncio.create_task(process.run(stop))
    await asyncio.wait_for(process.ready.wait(), 60)
    try:
        yield process
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def press(emulator: TelegramEmulator, user_id: int, chat_id: int, data: str) -> dict[str, Any]:
    """The user presses the inline button ``data`` under the bot's last message."""
    message = emulator.bot_messages(chat_id)[-1].json
    return emulator.inject_update(
        {
            "callback_query": {
                "id": f"cb{len(emulator.calls())}",
                "from": emulator.world.user_json(user_id),
                "chat_instance": "ci",
                "message": message,
                "data": data,
            }
        }
    )


def last_text(emulator: TelegramEmulator, chat_id: int) -> str:
    return emulator.bot_messages(chat_id)[-1].text or ""


async def test_pay_package_pre_checkout_and_a_payment_delivered_twice_credits_once(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """/pay -> 100 Stars button -> XTR invoice; a wrong pre-checkout is refused with a
    reason, a right one accepted; successful_payment twice -> one credit of $0.65."""
    telegram_emulator.add_private_chat(PAYER)
    async with (
        balance_view(stack, broker_profile, billing_topics) as balances,
        gateway(stack, telegram_emulator, telegram_bot, publisher, balances) as gw,
        billing_worker() as worker,
    ):
        await gw.feed(telegram_emulator.send_command(PAYER, "pay", user_id=PAYER))
        keyboard = telegram_emulator.bot_messages(PAYER)[-1].json["reply_markup"]
        datas = [b["callback_data"] for row in keyboard["inline_keyboard"] for b in row]
        assert datas == ["pay:10", "pay:50", "pay:100", "pay:250", "pay:500", "pay:custom"]
        await gw.feed(press(telegram_emulator, PAYER, PAYER, "pay:100"))
        [invoice] = telegram_emulator.invoices(PAYER)
        assert (invoice.currency, invoice.total_amount) == ("XTR", 100)
        assert invoice.payload.startswith(f"xtr1:{PAYER}:")

        bot_state = telegram_emulator.bot()
        wrong = telegram_emulator.pre_checkout_query(PAYER, 99, invoice.payload)
        await gw.feed(wrong)
        other = telegram_emulator.pre_checkout_query(OTHER, 100, invoice.payload)
        await gw.feed(other)
        right = telegram_emulator.pre_checkout_query(PAYER, 100, invoice.payload)
        await gw.feed(right)
        answers = {
            q["pre_checkout_query"]["id"]: bot_state.pre_checkout_queries[
                q["pre_checkout_query"]["id"]
            ]
            for q in (wrong, other, right)
        }
        wrong_a, other_a, right_a = answers.values()
        assert not wrong_a.ok
        assert "amount" in (wrong_a.error_message or "")
        assert not other_a.ok
        assert "someone else" in (other_a.error_message or "")
        assert right_a.ok

        paid = telegram_emulator.successful_payment(
            PAYER, 100, invoice.payload, user_id=PAYER, charge_id="stxPAID1"
        )
        await gw.feed(paid)
        again = telegram_emulator.successful_payment(
            PAYER, 100, invoice.payload, user_id=PAYER, charge_id="stxPAID1"
        )
        await gw.feed(again)
        assert "stxPAID1" in last_text(telegram_emulator, PAYER)
        await wait_for(lambda: worker.stats.commands >= 2)
        state = worker.state_of(PAYER)
        assert state is not None
        assert state.balance == Decimal("0.65")
        assert list(state.payments) == ["stxPAID1"]

        await gw.feed(telegram_emulator.send_command(PAYER, "balance", user_id=PAYER))
        report = last_text(telegram_emulator, PAYER)
        assert "Balance: $0.65" in report
        assert "payment of 100 Stars" in report


async def test_custom_amount_survives_a_gateway_restart(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """Custom amount asked before a restart is answered after it: the reply to the prompt
    carries the state. Out-of-range answers are refused and asked again."""
    telegram_emulator.add_private_chat(PAYER)
    async with balance_view(stack, broker_profile, billing_topics) as balances:
        async with gateway(stack, telegram_emulator, telegram_bot, publisher, balances) as gw:
            await gw.feed(telegram_emulator.send_command(PAYER, "pay", user_id=PAYER))
            await gw.feed(press(telegram_emulator, PAYER, PAYER, "pay:custom"))
            prompt = telegram_emulator.bot_messages(PAYER)[-1]
            assert "1 to 2500" in (prompt.text or "")
        # a new process: new dispatcher, routers and views
        async with gateway(stack, telegram_emulator, telegram_bot, publisher, balances) as gw:
            await gw.feed(
                telegram_emulator.send_text(
                    PAYER, "5000", user_id=PAYER, reply_to=prompt.message_id
                )
            )
            assert "between 1 and 2500" in last_text(telegram_emulator, PAYER)
            assert telegram_emulator.invoices(PAYER) == []
            reprompt = telegram_emulator.bot_messages(PAYER)[-1]
            await gw.feed(
                telegram_emulator.send_text(
                    PAYER, "42", user_id=PAYER, reply_to=reprompt.message_id
                )
            )
            [invoice] = telegram_emulator.invoices(PAYER)
            assert invoice.total_amount == 42
            await gw.feed(telegram_emulator.send_command(PAYER, "pay", "7", user_id=PAYER))
            assert [i.total_amount for i in telegram_emulator.invoices(PAYER)] == [42, 7]


async def test_refund_by_payer_calls_telegram_and_refusals_say_why(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """/refund by someone else is refused with the reason; by the payer it debits the
    ledger, refundStarPayment is called, the user is told; a second /refund is refused."""
    telegram_emulator.add_private_chat(PAYER)
    telegram_emulator.add_private_chat(OTHER)
    async with (
        balance_view(stack, broker_profile, billing_topics) as balances,
        gateway(stack, telegram_emulator, telegram_bot, publisher, balances) as gw,
        billing_worker() as worker,
        payments_process(stack, broker_profile, billing_topics, telegram_bot),
    ):
        await gw.feed(telegram_emulator.send_command(PAYER, "pay", "50", user_id=PAYER))
        [invoice] = telegram_emulator.invoices(PAYER)
        await gw.feed(
            telegram_emulator.successful_payment(
                PAYER, 50, invoice.payload, user_id=PAYER, charge_id="stxR1"
            )
        )
        await gw.feed(telegram_emulator.send_command(OTHER, "refund", "stxR1", user_id=OTHER))
        await telegram_emulator.wait_until(
            lambda: "refused" in last_text(telegram_emulator, OTHER), 60
        )
        assert "only the payer can refund" in last_text(telegram_emulator, OTHER)

        await gw.feed(telegram_emulator.send_command(PAYER, "refund", "stxR1", user_id=PAYER))
        await telegram_emulator.wait_until(
            lambda: last_text(telegram_emulator, PAYER).startswith("Refunded"), 60
        )
        assert [
            c.params.get("telegram_payment_charge_id")
            for c in telegram_emulator.calls("refundStarPayment")
        ] == ["stxR1"]
        await gw.feed(telegram_emulator.send_command(PAYER, "refund", "stxR1", user_id=PAYER))
        await telegram_emulator.wait_until(
            lambda: "already been refunded" in last_text(telegram_emulator, PAYER), 60
        )
        assert len(telegram_emulator.calls("refundStarPayment")) == 1
        state = worker.state_of(PAYER)
        assert state is not None
        assert state.balance == 0


async def test_admin_commands_are_privileged_and_recorded_with_the_admin(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """Non-privileged /topup and /set_margin are refused; an admin's are a ledger entry and
    a margin event naming the admin; k1+k2+k3 > 1 is refused; /pay then quotes the margin."""
    telegram_emulator.add_private_chat(PAYER)
    telegram_emulator.add_private_chat(ADMIN)
    async with (
        balance_view(stack, broker_profile, billing_topics) as balances,
        gateway(stack, telegram_emulator, telegram_bot, publisher, balances) as gw,
        billing_worker() as worker,
    ):
        await gw.feed(telegram_emulator.send_command(PAYER, "topup", f"{PAYER} 100", user_id=PAYER))
        assert "administrators only" in last_text(telegram_emulator, PAYER)
        await gw.feed(telegram_emulator.send_command(PAYER, "set_margin", "0.1", user_id=PAYER))
        assert "administrators only" in last_text(telegram_emulator, PAYER)

        await gw.feed(
            telegram_emulator.send_command(ADMIN, "topup", f"{PAYER} 2.5 gift", user_id=ADMIN)
        )
        await wait_for(lambda: worker.stats.commands >= 1)
        await gw.feed(telegram_emulator.send_command(ADMIN, "set_margin", "0.6", user_id=ADMIN))
        assert "k1 + k2 + k3" in last_text(telegram_emulator, ADMIN)
        await gw.feed(telegram_emulator.send_command(ADMIN, "set_margin", "10%", user_id=ADMIN))
        assert "$0.52" in last_text(telegram_emulator, ADMIN)

        await gw.feed(telegram_emulator.send_command(PAYER, "pay", "100", user_id=PAYER))
        [invoice] = telegram_emulator.invoices(PAYER)
        assert invoice.payload.endswith(":100:0.1")

    ledger: list[Any] = []
    tail = TopicTail(
        stack.kafka_bootstrap,
        broker_profile,
        BILLING_LEDGER,
        ledger.append,
        topic_prefix=billing_topics,
    )
    admin_events: list[Any] = []
    admin_tail = TopicTail(
        stack.kafka_bootstrap,
        broker_profile,
        ADMIN_EVENTS,
        admin_events.append,
        topic_prefix=billing_topics,
    )
    try:
        await tail.catch_up()
        await admin_tail.catch_up()
    finally:
        await tail.close()
        await admin_tail.close()
    [topped] = ledger
    assert isinstance(topped, AdminToppedUp)
    assert (topped.admin_user_id, topped.amount, topped.reason) == (ADMIN, Decimal("2.5"), "gift")
    [changed] = admin_events
    assert isinstance(changed, MarginChanged)
    assert (changed.admin_user_id, changed.owner_margin, changed.previous_owner_margin) == (
        ADMIN,
        Decimal("0.1"),
        Decimal(0),
    )
    assert not any(isinstance(e, PaymentCredited) for e in ledger)


async def test_refund_refused_by_telegram_with_403_is_retried_a_bounded_number_of_times(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """refundStarPayment answering 403 every time: after MAX_REFUND_ATTEMPTS calls the
    refund fails with the reason, the debit is reversed and the user is told (it used to
    retry the batch forever and block every later refund)."""
    telegram_emulator.add_private_chat(PAYER)
    async with (
        balance_view(stack, broker_profile, billing_topics) as balances,
        gateway(stack, telegram_emulator, telegram_bot, publisher, balances) as gw,
        billing_worker() as worker,
        payments_process(stack, broker_profile, billing_topics, telegram_bot),
    ):
        await gw.feed(telegram_emulator.send_command(PAYER, "pay", "50", user_id=PAYER))
        [invoice] = telegram_emulator.invoices(PAYER)
        await gw.feed(
            telegram_emulator.successful_payment(
                PAYER, 50, invoice.payload, user_id=PAYER, charge_id="stx403"
            )
        )
        await wait_for(lambda: (worker.state_of(PAYER) or _no_state()).balance > 0)
        credited = (worker.state_of(PAYER) or _no_state()).balance
        telegram_emulator.fail_next(
            "refundStarPayment",
            error_code=403,
            description="Forbidden: bot was blocked by the user",
            times=100,
        )
        await gw.feed(telegram_emulator.send_command(PAYER, "refund", "stx403", user_id=PAYER))
        await wait_for(lambda: (worker.state_of(PAYER) or _no_state()).entries >= 3, 90)
        state = worker.state_of(PAYER)
        assert state is not None
        assert state.balance == credited  # debited, then reversed
        assert not state.payments["stx403"].refunded
        calls = telegram_emulator.calls("refundStarPayment")
        assert len(calls) == MAX_REFUND_ATTEMPTS


async def test_a_duplicate_refund_entry_is_acted_on_once(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """Two RefundDebited entries of one operation (a zombie worker's double write, which the
    fold skips) call refundStarPayment once and tell the user once."""
    telegram_emulator.add_private_chat(PAYER)
    state = BillingState()
    payload = InvoicePayload(PAYER, "c" * 32, 50, Decimal(0)).encode()
    now = datetime.now(UTC)
    for cmd in (
        commands.payment_credit(
            PAYER, "stxDup", 50, invoice_payload=payload, owner_margin=Decimal(0), occurred_at=now
        ),
        commands.refund_debit(PAYER, "stxDup", occurred_at=now),
    ):
        [entry] = decide(state, cmd, now)
        evolve(state, entry)
    assert isinstance(entry, RefundDebited)
    twin = msgspec.structs.replace(entry, id=new_id())
    async with payments_process(stack, broker_profile, billing_topics, telegram_bot) as process:
        await publisher.publish_all([(BILLING_LEDGER, entry), (BILLING_LEDGER, twin)])
        await wait_for(lambda: process.handled >= 2, 60)
    assert len(telegram_emulator.calls("refundStarPayment")) == 1
    assert process.skipped_duplicates == 1
    assert len(telegram_emulator.bot_messages(PAYER)) == 1


def _no_state() -> BillingState:
    return BillingState()


async def test_admin_bad_inputs_are_each_answered_with_a_reason(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """/topup with a superscript id or a non-finite amount and /set_margin -0, sNaN% or a
    100-digit margin get a refusal naming why (they used to raise or be accepted)."""
    telegram_emulator.add_private_chat(ADMIN)
    async with (
        balance_view(stack, broker_profile, billing_topics) as balances,
        gateway(stack, telegram_emulator, telegram_bot, publisher, balances) as gw,
    ):
        for command, args, expected in [
            ("topup", "\u00b2 5", "usage: /topup"),
            ("topup", f"{PAYER} sNaN", "finite"),
            ("topup", f"{PAYER} \u00b2", "not an amount"),
            ("set_margin", "-0", "negative"),
            ("set_margin", "sNaN%", "finite"),
            ("set_margin", "0." + "1" * 100, "decimal places"),
        ]:
            before = len(telegram_emulator.bot_messages(ADMIN))
            await gw.feed(telegram_emulator.send_command(ADMIN, command, args, user_id=ADMIN))
            assert len(telegram_emulator.bot_messages(ADMIN)) == before + 1, (command, args)
            assert expected in last_text(telegram_emulator, ADMIN), (command, args)

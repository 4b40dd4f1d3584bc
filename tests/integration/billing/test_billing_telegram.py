"""/pay, pre-checkout, payment, /refund, /balance and admin commands through aiogram's
Dispatcher against the Telegram emulator, the real broker and a running billing worker."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from billing_helpers import (
    ADMIN,
    OTHER,
    PAYER,
    GatewayFactory,
    PaymentsFactory,
    WorkerFactory,
    pay_50_stars,
    refund_debit_entry,
    wait_for,
)

from actors.billing.ledger import BillingState
from actors.billing.payments import amount_invalid
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import feed, last_text, press_button
from events.admin import MarginChanged
from events.billing import AdminToppedUp, PaymentCredited
from events.catalog import ADMIN_EVENTS, BILLING_LEDGER
from events.ids import new_id
from infra.billing.payments_process import MAX_REFUND_ATTEMPTS
from infra.billing.views import TopicTail
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher


async def test_pay_package_pre_checkout_and_a_payment_delivered_twice_credits_once(
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
) -> None:
    """/pay -> 100 Stars button -> XTR invoice; a wrong pre-checkout is refused with a
    reason, a right one accepted; successful_payment twice -> one credit of $0.65."""
    telegram_emulator.add_private_chat(PAYER)
    async with (
        billing_gateway() as gw,
        billing_worker() as worker,
    ):
        await feed(gw, telegram_emulator.send_command(PAYER, "pay", user_id=PAYER))
        keyboard = telegram_emulator.bot_messages(PAYER)[-1].json["reply_markup"]
        datas = [b["callback_data"] for row in keyboard["inline_keyboard"] for b in row]
        assert datas == ["pay:10", "pay:50", "pay:100", "pay:250", "pay:500", "pay:custom"]
        await feed(
            gw,
            press_button(
                telegram_emulator, PAYER, telegram_emulator.bot_messages(PAYER)[-1], "pay:100"
            ),
        )
        [invoice] = telegram_emulator.invoices(PAYER)
        assert (invoice.currency, invoice.total_amount) == ("XTR", 100)
        assert invoice.payload.startswith(f"xtr1:{PAYER}:")

        bot_state = telegram_emulator.bot()
        wrong = telegram_emulator.pre_checkout_query(PAYER, 99, invoice.payload)
        await feed(gw, wrong)
        other = telegram_emulator.pre_checkout_query(OTHER, 100, invoice.payload)
        await feed(gw, other)
        right = telegram_emulator.pre_checkout_query(PAYER, 100, invoice.payload)
        await feed(gw, right)
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
        await feed(gw, paid)
        again = telegram_emulator.successful_payment(
            PAYER, 100, invoice.payload, user_id=PAYER, charge_id="stxPAID1"
        )
        await feed(gw, again)
        assert "stxPAID1" in last_text(telegram_emulator, PAYER)
        await wait_for(lambda: worker.stats.commands >= 2)
        state = worker.state_of(PAYER)
        assert state is not None
        assert state.balance == Decimal("0.65")
        assert list(state.payments) == ["stxPAID1"]

        await feed(gw, telegram_emulator.send_command(PAYER, "balance", user_id=PAYER))
        report = last_text(telegram_emulator, PAYER)
        assert "Balance: $0.65" in report
        assert "payment of 100 Stars" in report


async def test_custom_amount_survives_a_gateway_restart(
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
) -> None:
    """Custom amount asked before a restart is answered after it: the reply to the prompt
    carries the state. Out-of-range answers are refused and asked again."""
    telegram_emulator.add_private_chat(PAYER)
    async with billing_gateway() as gw:
        await feed(gw, telegram_emulator.send_command(PAYER, "pay", user_id=PAYER))
        await feed(
            gw,
            press_button(
                telegram_emulator, PAYER, telegram_emulator.bot_messages(PAYER)[-1], "pay:custom"
            ),
        )
        prompt = telegram_emulator.bot_messages(PAYER)[-1]
        assert "1 to 2500" in (prompt.text or "")
    # a new process: new dispatcher, routers and views
    async with billing_gateway() as gw:
        await feed(
            gw,
            telegram_emulator.send_text(PAYER, "5000", user_id=PAYER, reply_to=prompt.message_id),
        )
        assert amount_invalid("en") in last_text(telegram_emulator, PAYER)
        assert telegram_emulator.invoices(PAYER) == []
        reprompt = telegram_emulator.bot_messages(PAYER)[-1]
        await feed(
            gw,
            telegram_emulator.send_text(PAYER, "42", user_id=PAYER, reply_to=reprompt.message_id),
        )
        [invoice] = telegram_emulator.invoices(PAYER)
        assert invoice.total_amount == 42
        await feed(gw, telegram_emulator.send_command(PAYER, "pay", "7", user_id=PAYER))
        assert [i.total_amount for i in telegram_emulator.invoices(PAYER)] == [42, 7]


async def test_refund_by_payer_calls_telegram_and_refusals_say_why(
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
    payments_process: PaymentsFactory,
) -> None:
    """/refund by someone else is refused with the reason; by the payer it debits the
    ledger, refundStarPayment is called, the user is told; a second /refund is refused."""
    telegram_emulator.add_private_chat(PAYER)
    telegram_emulator.add_private_chat(OTHER)
    async with (
        billing_gateway() as gw,
        billing_worker() as worker,
        payments_process(),
    ):
        await pay_50_stars(gw, telegram_emulator, "stxR1")
        await feed(gw, telegram_emulator.send_command(OTHER, "refund", "stxR1", user_id=OTHER))
        await telegram_emulator.wait_until(
            lambda: "refused" in last_text(telegram_emulator, OTHER), 60
        )
        refusal = last_text(telegram_emulator, OTHER)  # English keeps the ledger's own detail
        assert "no payment stxR1 was made by you" in refusal

        await feed(gw, telegram_emulator.send_command(PAYER, "refund", "stxR1", user_id=PAYER))
        await telegram_emulator.wait_until(
            lambda: last_text(telegram_emulator, PAYER).startswith("Refunded"), 60
        )
        assert [
            c.params.get("telegram_payment_charge_id")
            for c in telegram_emulator.calls("refundStarPayment")
        ] == ["stxR1"]
        await feed(gw, telegram_emulator.send_command(PAYER, "refund", "stxR1", user_id=PAYER))
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
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
) -> None:
    """Non-privileged /topup and /set_margin are refused; an admin's are a ledger entry and
    a margin event naming the admin; k1+k2+k3 > 1 is refused; /pay then quotes the margin."""
    telegram_emulator.add_private_chat(PAYER)
    telegram_emulator.add_private_chat(ADMIN)
    async with (
        billing_gateway() as gw,
        billing_worker() as worker,
    ):
        await feed(
            gw, telegram_emulator.send_command(PAYER, "topup", f"{PAYER} 100", user_id=PAYER)
        )
        assert "administrators only" in last_text(telegram_emulator, PAYER)
        await feed(gw, telegram_emulator.send_command(PAYER, "set_margin", "0.1", user_id=PAYER))
        assert "administrators only" in last_text(telegram_emulator, PAYER)

        await feed(
            gw, telegram_emulator.send_command(ADMIN, "topup", f"{PAYER} 2.5 gift", user_id=ADMIN)
        )
        await wait_for(lambda: worker.stats.commands >= 1)
        await feed(gw, telegram_emulator.send_command(ADMIN, "set_margin", "0.6", user_id=ADMIN))
        assert "k1 + k2 + k3" in last_text(telegram_emulator, ADMIN)
        await feed(gw, telegram_emulator.send_command(ADMIN, "set_margin", "10%", user_id=ADMIN))
        assert "$0.52" in last_text(telegram_emulator, ADMIN)

        await feed(gw, telegram_emulator.send_command(PAYER, "pay", "100", user_id=PAYER))
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
    billing_worker: WorkerFactory,
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
    payments_process: PaymentsFactory,
) -> None:
    """refundStarPayment answering 403 every time: after MAX_REFUND_ATTEMPTS calls the
    refund fails with the reason, the debit is reversed and the user is told (it used to
    retry the batch forever and block every later refund)."""
    telegram_emulator.add_private_chat(PAYER)
    async with (
        billing_gateway() as gw,
        billing_worker() as worker,
        payments_process(),
    ):
        await pay_50_stars(gw, telegram_emulator, "stx403")
        await wait_for(lambda: (worker.state_of(PAYER) or _no_state()).balance > 0)
        credited = (worker.state_of(PAYER) or _no_state()).balance
        telegram_emulator.fail_next(
            "refundStarPayment",
            error_code=403,
            description="Forbidden: bot was blocked by the user",
            times=100,
        )
        await feed(gw, telegram_emulator.send_command(PAYER, "refund", "stx403", user_id=PAYER))
        await wait_for(lambda: (worker.state_of(PAYER) or _no_state()).entries >= 3, 90)
        state = worker.state_of(PAYER)
        assert state is not None
        assert state.balance == credited  # debited, then reversed
        assert not state.payments["stx403"].refunded
        calls = telegram_emulator.calls("refundStarPayment")
        assert len(calls) == MAX_REFUND_ATTEMPTS


async def test_a_duplicate_refund_entry_is_acted_on_once(
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    payments_process: PaymentsFactory,
) -> None:
    """Two RefundDebited entries of one operation (a zombie worker's double write, which the
    fold skips) call refundStarPayment once and tell the user once."""
    telegram_emulator.add_private_chat(PAYER)
    entry = refund_debit_entry("stxDup", "c" * 32)
    twin = msgspec.structs.replace(entry, id=new_id())
    async with payments_process() as process:
        await publisher.publish_all([(BILLING_LEDGER, entry), (BILLING_LEDGER, twin)])
        await wait_for(lambda: process.handled >= 2, 60)
    assert len(telegram_emulator.calls("refundStarPayment")) == 1
    assert process.skipped_duplicates == 1
    assert len(telegram_emulator.bot_messages(PAYER)) == 1


def _no_state() -> BillingState:
    return BillingState()


async def test_admin_bad_inputs_are_each_answered_with_a_reason(
    telegram_emulator: TelegramEmulator,
    billing_gateway: GatewayFactory,
) -> None:
    """/topup with a superscript id or a non-finite amount and /set_margin -0, sNaN% or a
    100-digit margin get a refusal naming why (they used to raise or be accepted)."""
    telegram_emulator.add_private_chat(ADMIN)
    async with (
        billing_gateway() as gw,
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
            await feed(gw, telegram_emulator.send_command(ADMIN, command, args, user_id=ADMIN))
            assert len(telegram_emulator.bot_messages(ADMIN)) == before + 1, (command, args)
            assert expected in last_text(telegram_emulator, ADMIN), (command, args)

"""Updates that move money or state are confirmed to Telegram only once their records are on
the log: a Stars payment, a refund request or an admin top-up seen while the broker does not
take writes is delivered again and written by a healthy gateway, never lost."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import aiohttp
from aiogram import Bot
from aiohttp import web

from actors.billing.payments import InvoicePayload
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import WEBHOOK_SECRET, GatewayFactory, NoBalances, TopicReader, polling
from events.billing import PaymentCreditRequested
from events.catalog import BILLING_COMMANDS, PAYMENTS_EVENTS
from events.payments import PaymentSucceeded
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.settings import Settings

PAYER = 7301
ADMIN = 9301


async def _dead_publisher(
    stack: Endpoints, profile: BrokerProfile, topic_prefix: str
) -> EventPublisher:
    """A publisher whose producer is stopped: every write fails, as with the broker down."""
    dead = make_producer(stack.kafka_bootstrap, profile)
    await dead.start()
    await dead.stop()
    return EventPublisher(dead, topic_prefix=topic_prefix)


async def test_a_paid_stars_payment_seen_while_the_log_is_down_is_redelivered_and_credited(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    gateway_settings: Settings,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    open_test_gateway: GatewayFactory,
    topics: TopicReader,
    topic_prefix: str,
) -> None:
    """A successful_payment, a /refund and an admin /topup handled with a dead producer stay
    unconfirmed at Telegram (the error router does not swallow the failed write); a healthy
    gateway then writes the payment and its credit command exactly once."""
    telegram_emulator.add_private_chat(PAYER)
    telegram_emulator.add_private_chat(ADMIN)
    payload = InvoicePayload(PAYER, "d" * 32, 100, Decimal(0)).encode()
    telegram_emulator.successful_payment(PAYER, 100, payload, user_id=PAYER, charge_id="stxOUTAGE1")
    telegram_emulator.send_command(PAYER, "refund", "stxEARLIER")
    telegram_emulator.send_command(ADMIN, "topup", f"{PAYER} 5")
    broken = Gateway.wire(
        settings=dataclasses.replace(gateway_settings, privileged_user_ids=frozenset({ADMIN})),
        bot=telegram_bot,
        publisher=await _dead_publisher(stack, broker_profile, topic_prefix),
        balances=NoBalances(),
        publish_timeout=0.5,
    )
    async with polling(broken):
        await telegram_emulator.wait_until(
            lambda: len(telegram_emulator.calls("getUpdates")) >= 3, timeout=20
        )
    pending = list(telegram_emulator.bot().updates)
    assert len(pending) == 3
    assert pending[0]["message"]["successful_payment"]["telegram_payment_charge_id"] == (
        "stxOUTAGE1"
    )
    assert [u["message"].get("text") for u in pending[1:]] == [
        "/refund stxEARLIER",
        f"/topup {PAYER} 5",
    ]
    assert not any("stxOUTAGE1" in (m.text or "") for m in telegram_emulator.bot_messages(PAYER))

    async with open_test_gateway() as gateway, polling(gateway):
        commands = await topics.read(BILLING_COMMANDS, count=2, settle=1.0)
        events = await topics.read(PAYMENTS_EVENTS, count=2, settle=0.5)
        await telegram_emulator.wait_until(
            lambda: any(
                "stxOUTAGE1" in (m.text or "") for m in telegram_emulator.bot_messages(PAYER)
            ),
            timeout=10,
        )
    credits = [c for c in commands if isinstance(c, PaymentCreditRequested)]
    assert [c.telegram_payment_charge_id for c in credits] == ["stxOUTAGE1"]
    assert [e.telegram_payment_charge_id for e in events if isinstance(e, PaymentSucceeded)] == [
        "stxOUTAGE1"
    ]
    assert list(telegram_emulator.bot().updates) == []


def _texts(emulator: TelegramEmulator) -> list[str]:
    return [m.text or "" for m in emulator.bot_messages(PAYER)]


async def test_a_paid_payment_with_an_unreadable_payload_is_recorded_not_dropped(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """Stars paid against an invoice payload this version cannot read (say, issued by an
    older one) are still recorded as paid, not credited, and the payer is sent to support."""
    telegram_emulator.add_private_chat(PAYER)
    telegram_emulator.successful_payment(
        PAYER, 50, "xtr0:legacy-format", user_id=PAYER, charge_id="stxLEGACY1"
    )
    async with open_test_gateway() as gateway, polling(gateway):
        (event,) = await topics.read(PAYMENTS_EVENTS, count=1, settle=0.5)
        await telegram_emulator.wait_until(
            lambda: any(
                "/paysupport" in (m.text or "") for m in telegram_emulator.bot_messages(PAYER)
            ),
            timeout=10,
        )
        commands = await topics.read(BILLING_COMMANDS, count=0, settle=0.5)
    assert isinstance(event, PaymentSucceeded)
    assert (event.telegram_payment_charge_id, event.stars) == ("stxLEGACY1", 50)
    assert commands == []
    assert list(telegram_emulator.bot().updates) == []


async def test_a_webhook_payment_is_answered_500_until_it_is_durable(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    gateway_settings: Settings,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    topic_prefix: str,
) -> None:
    """In webhook mode a successful_payment whose records the log does not take is answered
    500 (Telegram delivers it again), never 200."""
    chat = telegram_emulator.add_private_chat(PAYER)
    broken = Gateway.wire(
        settings=gateway_settings,
        bot=telegram_bot,
        publisher=await _dead_publisher(stack, broker_profile, topic_prefix),
        balances=NoBalances(),
        publish_timeout=0.5,
    )
    payload = InvoicePayload(PAYER, "e" * 32, 100, Decimal(0)).encode()
    update = {
        "update_id": 4444,
        "message": {
            "message_id": 60,
            "date": 1767225600,
            "chat": chat.to_json(),
            "from": {"id": PAYER, "is_bot": False, "first_name": "Payer"},
            "successful_payment": {
                "currency": "XTR",
                "total_amount": 100,
                "invoice_payload": payload,
                "telegram_payment_charge_id": "stxHOOK1",
                "provider_payment_charge_id": "",
            },
        },
    }
    app = broken.webhook_app(path="/tg/hook", secret=WEBHOOK_SECRET)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/tg/hook", json=update, headers=headers) as r,
        ):
            assert r.status == 500
    finally:
        await runner.cleanup()

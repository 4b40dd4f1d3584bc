"""Webhook mode (secret token check, emulator delivery) and updates surviving a broker outage."""

from __future__ import annotations

import aiohttp
from aiogram import Bot
from aiohttp import web
from gateway_harness import WEBHOOK_SECRET, GatewayFactory, NoBalances, TopicReader, polling

from events.catalog import THREAD_INBOX
from events.thread import UserMessageReceived
from infra.emulators.telegram import TelegramEmulator
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.settings import Settings

USER = 5551234


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def test_webhook_refuses_a_wrong_secret_and_accepts_telegram(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    topics: TopicReader,
) -> None:
    """Without the secret token header the webhook answers 401 and writes nothing; Telegram's
    deliveries (with the secret set by setWebhook) land on the inbox."""
    chat = telegram_emulator.add_private_chat(USER)
    forged = {
        "update_id": 99,
        "message": {
            "message_id": 50,
            "date": 1767225600,
            "chat": chat.to_json(),
            "from": {"id": USER, "is_bot": False, "first_name": "Mallory"},
            "text": "forged",
        },
    }
    async with open_test_gateway() as gateway:
        runner, base = await _serve(gateway.webhook_app(path="/tg/hook"))
        try:
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                    async with http.post(f"{base}/tg/hook", json=forged, headers=headers) as r:
                        assert r.status == 401
            await telegram_bot.set_webhook(f"{base}/tg/hook", secret_token=WEBHOOK_SECRET)
            telegram_emulator.send_text(USER, "via webhook")
            records = await topics.read(THREAD_INBOX, count=1, settle=0.5)
        finally:
            await telegram_bot.delete_webhook()
            await runner.cleanup()
    assert [r.message.text for r in records] == ["via webhook"]


async def test_update_is_not_confirmed_until_its_command_is_durable(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    gateway_settings: Settings,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    open_test_gateway: GatewayFactory,
    topics: TopicReader,
    topic_prefix: str,
) -> None:
    """When the log refuses the command, Telegram keeps the update; a healthy gateway then
    writes it: nothing is lost."""
    telegram_emulator.add_private_chat(USER)
    telegram_emulator.send_text(USER, "survives the outage")
    dead = make_producer(stack.kafka_bootstrap, broker_profile)
    await dead.start()
    await dead.stop()
    broken = Gateway.wire(
        settings=gateway_settings,
        bot=telegram_bot,
        publisher=EventPublisher(dead, topic_prefix=topic_prefix),
        balances=NoBalances(),
        publish_timeout=0.5,
    )
    async with polling(broken):
        await telegram_emulator.wait_until(
            lambda: len(telegram_emulator.calls("getUpdates")) >= 2, timeout=10
        )
    pending = telegram_emulator.bot().updates
    assert [u["message"]["text"] for u in pending] == ["survives the outage"]
    async with open_test_gateway() as gateway, polling(gateway):
        (cmd,) = await topics.read(THREAD_INBOX, count=1, settle=0.5)
    assert isinstance(cmd, UserMessageReceived)
    assert cmd.message.text == "survives the outage"

"""Webhook mode (secret token check, emulator delivery) and updates surviving a broker outage."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from typing import Any

import aiohttp
from aiogram import Bot
from aiohttp import web

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import WEBHOOK_SECRET, GatewayFactory, NoBalances, TopicReader, polling
from events.catalog import THREAD_INBOX
from events.thread import UserMessageReceived
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway, serve_webhook
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
        runner, base = await _serve(gateway.webhook_app(path="/tg/hook", secret=WEBHOOK_SECRET))
        try:
            async with aiohttp.ClientSession() as http:
                for headers in (
                    {},
                    {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                    {"X-Telegram-Bot-Api-Secret-Token": ""},
                    {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET + "x"},
                ):
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_without_a_configured_secret_registers_a_random_one(
    open_test_gateway: GatewayFactory,
    gateway_settings: Settings,
    telegram_emulator: TelegramEmulator,
    topics: TopicReader,
) -> None:
    """No TELEGRAM_WEBHOOK_SECRET: the gateway still checks a secret, a strong random one it
    registers with setWebhook; an unsigned forged update gets 401, Telegram's get through."""
    chat = telegram_emulator.add_private_chat(USER)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    stop = asyncio.Event()
    settings = dataclasses.replace(gateway_settings, telegram_webhook_secret=None)
    async with open_test_gateway() as gateway:
        gateway = dataclasses.replace(
            gateway, ctx=dataclasses.replace(gateway.ctx, settings=settings)
        )
        server = asyncio.create_task(serve_webhook(gateway, url, stop, host="127.0.0.1", port=port))
        try:
            await telegram_emulator.wait_until(lambda: bool(telegram_emulator.calls("setWebhook")))
            hook = telegram_emulator.bot().webhook
            assert hook is not None
            assert hook.secret_token is not None
            assert len(hook.secret_token) >= 32
            async with aiohttp.ClientSession() as http:
                forged = _forged(chat.to_json())
                async with http.post(url, json=forged) as response:
                    assert response.status == 401
            telegram_emulator.send_text(USER, "signed by telegram")
            records = await topics.read(THREAD_INBOX, count=1, settle=0.5)
        finally:
            stop.set()
            await asyncio.wait_for(server, 15)
            await gateway.ctx.bot.delete_webhook()
    assert [r.message.text for r in records] == ["signed by telegram"]


def _forged(chat: dict[str, Any]) -> dict[str, Any]:
    return {
        "update_id": 4242,
        "message": {
            "message_id": 51,
            "date": 1767225600,
            "chat": chat,
            "from": {"id": USER, "is_bot": False, "first_name": "Mallory"},
            "successful_payment": {
                "currency": "XTR",
                "total_amount": 2500,
                "invoice_payload": "forged",
                "telegram_payment_charge_id": "stxFORGED",
                "provider_payment_charge_id": "",
            },
        },
    }


async def test_a_webhook_retry_of_an_update_in_flight_is_not_answered_before_it_is_durable(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    gateway_settings: Settings,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    topic_prefix: str,
) -> None:
    """Telegram retrying an update whose first delivery is still being handled gets the first
    attempt's outcome (500 when the log refuses it), never an early 200."""
    chat = telegram_emulator.add_private_chat(USER)
    dead = make_producer(stack.kafka_bootstrap, broker_profile)
    await dead.start()
    await dead.stop()
    broken = Gateway.wire(
        settings=gateway_settings,
        bot=telegram_bot,
        publisher=EventPublisher(dead, topic_prefix=topic_prefix),
        balances=NoBalances(),
        publish_timeout=1.0,
    )
    update = {
        "update_id": 4343,
        "message": {
            "message_id": 52,
            "date": 1767225600,
            "chat": chat.to_json(),
            "from": {"id": USER, "is_bot": False, "first_name": "Ada"},
            "text": "delivered twice",
        },
    }
    runner, base = await _serve(broken.webhook_app(path="/tg/hook", secret=WEBHOOK_SECRET))
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    try:
        async with aiohttp.ClientSession() as http:

            async def deliver() -> int:
                async with http.post(f"{base}/tg/hook", json=update, headers=headers) as r:
                    return r.status

            first = asyncio.create_task(deliver())
            await asyncio.sleep(0.2)
            second = await deliver()
            assert await first == 500
            assert second == 500
    finally:
        await runner.cleanup()

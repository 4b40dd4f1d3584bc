"""Webhook delivery of the Telegram emulator: secret header, retries, replies in the response,
and aiogram's own webhook handler as the receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from devkit.emulators.telegram import TelegramEmulator

USER = 2002


class Receiver:
    """A tiny webhook endpoint recording what it gets; fails the first `fail` requests."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.fail = 0
        self.reply: dict[str, Any] | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((dict(request.headers), body))
        if self.fail > 0:
            self.fail -= 1
            return web.Response(status=500)
        return web.json_response(self.reply or {})


@pytest_asyncio.fixture(loop_scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/hook"
    yield rec
    await runner.cleanup()


async def test_webhook_delivers_with_secret_and_blocks_polling(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator, receiver: Receiver
) -> None:
    """Updates are POSTed with X-Telegram-Bot-Api-Secret-Token; getUpdates then conflicts."""
    await telegram_bot.set_webhook(receiver.url, secret_token="s3cret")
    telegram_emulator.send_text(USER, "via webhook")
    await telegram_emulator.wait_until(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    assert body["message"]["text"] == "via webhook"
    with pytest.raises(TelegramConflictError):
        await telegram_bot.get_updates()
    info = await telegram_bot.get_webhook_info()
    assert info.url == receiver.url
    assert info.pending_update_count == 0
    await telegram_bot.delete_webhook()
    telegram_emulator.send_text(USER, "polled again")
    updates = await telegram_bot.get_updates()
    assert updates[-1].message is not None
    assert updates[-1].message.text == "polled again"


async def test_webhook_retries_until_accepted(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator, receiver: Receiver
) -> None:
    """A failing endpoint gets the same update again; the error shows in getWebhookInfo."""
    telegram_emulator.webhooks.retry_delay = 0.02
    receiver.fail = 2
    await telegram_bot.set_webhook(receiver.url)
    telegram_emulator.send_text(USER, "retry me")
    telegram_emulator.send_text(USER, "second")
    await telegram_emulator.wait_until(lambda: len(receiver.received) == 4)
    texts = [body["message"]["text"] for _, body in receiver.received]
    assert texts == ["retry me", "retry me", "retry me", "second"]
    info = await telegram_bot.get_webhook_info()
    assert info.last_error_message is not None
    assert "500" in info.last_error_message
    await telegram_bot.delete_webhook()


async def test_webhook_response_can_call_a_method(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator, receiver: Receiver
) -> None:
    """A JSON method in the webhook response is executed, as Telegram does."""
    receiver.reply = {"method": "sendMessage", "chat_id": USER, "text": "pong"}
    await telegram_bot.set_webhook(receiver.url)
    telegram_emulator.send_text(USER, "ping")
    await telegram_emulator.wait_until(lambda: len(telegram_emulator.bot_messages(USER)) == 1)
    assert telegram_emulator.bot_messages(USER)[0].text == "pong"
    await telegram_bot.delete_webhook()


async def test_aiogram_webhook_handler_end_to_end(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """aiogram's SimpleRequestHandler receives the update and answers in its multipart reply."""
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> SendMessage:
        return message.answer(f"echo: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dispatcher, telegram_bot, secret_token="tok").register(app, path="/wh")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/wh"
    try:
        await telegram_bot.set_webhook(url, secret_token="tok")
        telegram_emulator.send_text(USER, "hello")
        await telegram_emulator.wait_until(lambda: len(telegram_emulator.bot_messages(USER)) == 1)
        assert telegram_emulator.bot_messages(USER)[0].text == "echo: hello"
        await telegram_bot.delete_webhook()
    finally:
        await runner.cleanup()
    await asyncio.sleep(0)
    assert (
        json.loads(json.dumps(telegram_emulator.calls("sendMessage")[0].params))["text"]
        == "echo: hello"
    )

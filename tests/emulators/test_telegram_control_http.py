"""The Telegram emulator's HTTP control API, as a separate process (bot or demo) would use it."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from aiogram import Bot

from devkit.emulators.telegram import TelegramEmulator

USER = 3003


@pytest_asyncio.fixture(loop_scope="session")
async def http(telegram_emulator: TelegramEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=telegram_emulator.base_url) as session:
        yield session


async def test_inject_and_read_chat_over_http(
    http: aiohttp.ClientSession, telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """POST /_control/_/inject/text queues an update; GET chats/{id} shows bot replies."""
    async with http.post("/_control/_/inject/text", json={"chat_id": USER, "text": "hi"}) as resp:
        update = (await resp.json())["update"]
    assert update["message"]["text"] == "hi"
    updates = await telegram_bot.get_updates()
    assert updates[0].update_id == update["update_id"]
    await telegram_bot.send_message(USER, "*hello*", parse_mode="MarkdownV2")
    async with http.get(f"/_control/_/chats/{USER}") as resp:
        chat = (await resp.json())["chat"]
    assert [m["text"] for m in chat["messages"]] == ["hi", "hello"]
    assert chat["messages"][1]["raw_text"] == "*hello*"


async def test_files_flood_failures_and_calls_over_http(
    http: aiohttp.ClientSession, telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """Photos injected as base64, flood tuning, armed failures and the call log over HTTP."""
    data = base64.b64encode(b"\xff\xd8fakejpeg").decode()
    async with http.post(
        "/_control/_/inject/photo", json={"chat_id": USER, "data_b64": data}
    ) as resp:
        photo = (await resp.json())["update"]["message"]["photo"][-1]
    async with http.get(f"/_control/_/files/{photo['file_id']}") as resp:
        assert await resp.read() == b"\xff\xd8fakejpeg"
    async with http.post("/_control/flood", json={"enabled": False}) as resp:
        assert (await resp.json())["config"]["enabled"] is False
    for i in range(5):
        await telegram_bot.send_message(USER, f"m{i}")
    async with http.post(
        "/_control/_/fail", json={"method": "sendMessage", "error_code": 429, "retry_after": 3}
    ):
        pass
    async with http.get("/_control/_/calls", params={"method": "sendMessage"}) as resp:
        assert len((await resp.json())["calls"]) == 5
    async with http.post(
        f"{telegram_emulator.base_url}/bot{telegram_emulator.token}/sendMessage",
        json={"chat_id": USER, "text": "x"},
    ) as resp:
        body = await resp.json()
    assert resp.status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


async def test_forum_payments_and_state_over_http(
    http: aiohttp.ClientSession, telegram_emulator: TelegramEmulator
) -> None:
    """Chats, topics, payments and the bot's state summary are reachable over HTTP."""
    async with http.post(
        "/_control/_/chats", json={"chat_id": -1001, "type": "supergroup", "is_forum": True}
    ) as resp:
        assert (await resp.json())["chat"]["is_forum"] is True
    async with http.post(
        "/_control/_/inject/topic", json={"chat_id": -1001, "name": "Ideas", "user_id": USER}
    ) as resp:
        thread = (await resp.json())["update"]["message"]["message_thread_id"]
    async with http.post(
        "/_control/_/inject/text",
        json={"chat_id": -1001, "text": "t", "user_id": USER, "thread_id": thread},
    ) as resp:
        assert (await resp.json())["update"]["message"]["is_topic_message"] is True
    async with http.post(
        "/_control/_/inject/successful_payment",
        json={"chat_id": USER, "total_amount": 10, "payload": "p"},
    ) as resp:
        assert (await resp.json())["update"]["message"]["successful_payment"]["total_amount"] == 10
    async with http.get("/_control/_/state") as resp:
        state = await resp.json()
    assert state["chats"] == [-1001, USER]
    assert len(state["pending_updates"]) == 3
    assert state["payments"][0]["payload"] == "p"
    async with http.post("/_control/_/inject/nonsense", json={}) as resp:
        assert resp.status == 400
    async with http.post("/_control/reset") as resp:
        assert resp.status == 200
    assert telegram_emulator.bot().chats == {}

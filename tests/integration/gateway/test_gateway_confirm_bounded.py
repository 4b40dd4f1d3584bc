"""The gateway's stop is bounded: the confirming ``getUpdates`` of a shutdown gives up after
its short timeout when Telegram does not answer, instead of the Bot API's default 60 s."""

from __future__ import annotations

import asyncio
import logging

import pytest

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import GatewayFactory, TopicReader
from events.catalog import THREAD_INBOX
from infra.gateway.polling import Poller

CHAT = 7501


async def test_a_stop_gives_up_confirming_when_telegram_does_not_answer(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    topics: TopicReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With every later getUpdates left unanswered, a stopping poller returns once its
    confirm timeout is over and logs that it gave up."""
    telegram_emulator.add_private_chat(CHAT)
    async with open_test_gateway() as gateway:
        poller = Poller(gateway.ctx.bot, gateway.intake, timeout=1, confirm_timeout=0.5)
        stop = asyncio.Event()
        running = asyncio.create_task(poller.run(stop))
        telegram_emulator.send_text(CHAT, "hello")
        await topics.read(THREAD_INBOX, count=1)
        release = telegram_emulator.hold_calls("getUpdates")
        try:
            with caplog.at_level(logging.WARNING, logger="infra.gateway.polling"):
                stop.set()
                # a guard against a hang far below the 60 s default request timeout
                await asyncio.wait_for(running, 20)
        finally:
            release.set()
    assert poller.offset is not None
    assert any("giving up" in r.getMessage() for r in caplog.records)

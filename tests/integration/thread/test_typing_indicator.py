"""The typing indicator of a turn (``TelegramOutput.keep_typing``) against the Telegram
emulator."""

from __future__ import annotations

import asyncio

from aiogram import Bot

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.topics import eventually
from infra.threads.telegram_output import TelegramOutput

USER = 7601


async def test_the_typing_loop_ends_when_cancelled_as_its_action_changes(
    telegram_emulator: TelegramEmulator, telegram_bot: Bot
) -> None:
    """Cancelled in the very moment its action changes (a tool started as the turn ended),
    the typing loop still ends, so no chat action follows the turn's last message."""
    telegram_emulator.add_private_chat(USER)
    calls = telegram_emulator.bot(telegram_emulator.token).calls
    output = TelegramOutput(telegram_bot)
    changed = asyncio.Event()
    task = asyncio.create_task(output.keep_typing(USER, None, every=30.0, changed=changed))
    await eventually(lambda: any(c.method == "sendChatAction" for c in calls))
    await asyncio.sleep(0.05)  # the loop waits for a change now
    changed.set()
    task.cancel()
    await asyncio.wait([task], timeout=10)
    assert task.done()
    assert task.cancelled()

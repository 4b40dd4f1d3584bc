"""Background replies against the Telegram emulator's flood control."""

from __future__ import annotations

from aiogram import Bot
from aiogram.methods import SendMessage

from devkit.emulators.telegram import TelegramEmulator
from infra.gateway.replies import Replies

USER = 5557100


async def test_replies_wait_out_flood_control(
    telegram_emulator: TelegramEmulator, telegram_bot: Bot
) -> None:
    """Replies beyond the private chat's burst are refused with retry_after, then sent again
    after the wait: every reply arrives."""
    telegram_emulator.add_private_chat(USER)
    replies = Replies()
    for n in range(5):
        replies.send(SendMessage(chat_id=USER, text=f"reply {n}").as_(telegram_bot), what="t")
    await replies.drain(timeout=30)
    texts = sorted(m.text or "" for m in telegram_emulator.bot_messages(USER))
    assert texts == [f"reply {n}" for n in range(5)]
    refused = [c for c in telegram_emulator.calls("sendMessage") if c.error]
    assert refused, "flood control never answered retry_after"

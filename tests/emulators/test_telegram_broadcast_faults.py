"""What the broadcast tests need of the Telegram emulator, driven by aiogram's real Bot:
chats that blocked the bot, sends counted per chat, a keyboard removed."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from devkit.emulators.telegram import TelegramEmulator

ALICE, BOB = 5101, 5102


async def test_a_blocked_chat_answers_403_and_sends_are_counted_per_chat(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """A chat that blocked the bot refuses every message with 403 'bot was blocked by the
    user' (aiogram's TelegramForbiddenError); only carried-out sends are counted."""
    tg = telegram_emulator
    tg.configure_flood(enabled=False)
    tg.add_private_chat(ALICE)
    tg.add_private_chat(BOB)
    tg.block_chat(BOB)
    await telegram_bot.send_message(ALICE, "one")
    await telegram_bot.send_message(ALICE, "two")
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await telegram_bot.send_message(BOB, "never")
    tg.fail_next("sendMessage", error_code=429, retry_after=3, chat_id=ALICE)
    with pytest.raises(TelegramRetryAfter) as flood:
        await telegram_bot.send_message(ALICE, "later")
    assert flood.value.retry_after == 3
    assert tg.sends_per_chat() == {ALICE: 2}
    assert [m.text for m in tg.bot_messages(BOB)] == []


async def test_edit_message_reply_markup_removes_the_keyboard(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """editMessageReplyMarkup without a markup takes the inline keyboard off the message."""
    tg = telegram_emulator
    tg.add_private_chat(ALICE)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Send", callback_data="x")]]
    )
    sent = await telegram_bot.send_message(ALICE, "preview", reply_markup=keyboard)
    assert "reply_markup" in tg.bot_messages(ALICE)[-1].json
    await telegram_bot.edit_message_reply_markup(chat_id=ALICE, message_id=sent.message_id)
    assert "reply_markup" not in tg.bot_messages(ALICE)[-1].json

"""The Telegram emulator driven by aiogram's real Bot over HTTP: every method the bot uses,
the failures Telegram answers, and what the emulator records."""

from __future__ import annotations

import asyncio
import struct
import time
import zlib

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessageDraft
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InputMediaDocument,
    InputMediaPhoto,
    LabeledPrice,
    MessageEntity,
    Update,
)

from devkit.emulators.telegram import MediaItem, TelegramEmulator
from devkit.emulators.testing import make_bot, running_telegram

USER = 1001
GROUP = -100777


def png(width: int = 64, height: int = 32) -> bytes:
    """A tiny valid PNG of the given size."""
    raw = b"".join(b"\x00" + b"\xff" * (width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def no_flood(tg: TelegramEmulator) -> None:
    tg.configure_flood(enabled=False)


async def test_get_me_and_unknown_token(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """getMe answers the bot's identity; a token the emulator does not accept gets 401."""
    me = await telegram_bot.get_me()
    assert me.is_bot
    assert me.id == 123456789
    assert telegram_emulator.calls("getMe")
    async with running_telegram(tokens=[]) as strict:
        other = make_bot(strict, token="42:not-allowed")
        with pytest.raises(TelegramUnauthorizedError):
            await other.get_me()
        await other.session.close()


async def test_get_updates_offset_limit_and_types(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """Injected updates come back in order; offset confirms, limit caps, aiogram parses them."""
    tg = telegram_emulator
    first = tg.send_text(USER, "one")
    tg.send_text(USER, "two")
    tg.send_command(USER, "start", "ref1")
    updates = await telegram_bot.get_updates(limit=2)
    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    assert updates[0].message is not None
    assert updates[0].message.text == "one"
    rest = await telegram_bot.get_updates(offset=updates[-1].update_id + 1)
    assert len(rest) == 1
    command = rest[0].message
    assert command is not None
    assert command.text == "/start ref1"
    assert command.entities is not None
    assert command.entities[0].type == "bot_command"
    assert await telegram_bot.get_updates(offset=rest[0].update_id + 1) == []


async def test_long_poll_returns_early_and_conflicts(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """A long poll wakes as soon as an update arrives; a second poller ends the first with 409."""
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, telegram_emulator.send_text, USER, "wake")
    started = time.monotonic()
    updates = await telegram_bot.get_updates(timeout=5)
    assert time.monotonic() - started < 2
    assert updates[0].message is not None
    assert updates[0].message.text == "wake"
    offset = updates[0].update_id + 1
    first = asyncio.create_task(telegram_bot.get_updates(offset=offset, timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(telegram_bot.get_updates(offset=offset))
    with pytest.raises(TelegramConflictError):
        await first
    assert await second == []


async def test_allowed_updates_filter(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """allowed_updates drops update types the bot did not ask for, and is remembered."""
    telegram_emulator.send_text(USER, "skip me")
    telegram_emulator.pre_checkout_query(USER, 50, "p1")
    updates = await telegram_bot.get_updates(allowed_updates=["pre_checkout_query"])
    assert [u.pre_checkout_query is not None for u in updates] == [True]
    telegram_emulator.send_text(USER, "still filtered")
    assert await telegram_bot.get_updates(offset=updates[0].update_id + 1) == []


async def test_send_message_plain_and_markdown(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """sendMessage stores raw and plain text with entities; message ids increase per chat."""
    tg = telegram_emulator
    tg.send_text(USER, "hi")
    first = await telegram_bot.send_message(USER, "plain")
    second = await telegram_bot.send_message(USER, "*bold* and \\.", parse_mode="MarkdownV2")
    assert (first.message_id, second.message_id) == (2, 3)
    assert second.text == "bold and ."
    assert second.entities is not None
    assert second.entities[0].type == "bold"
    shown = tg.bot_messages(USER)
    assert [m.text for m in shown] == ["plain", "bold and ."]
    assert shown[1].raw_text == "*bold* and \\."
    assert shown[1].parse_mode == "MarkdownV2"
    assert shown[1].entities == [{"type": "bold", "offset": 0, "length": 4}]


async def test_explicit_entities_are_checked_like_telegram(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """Entities sent with ``entities=`` are checked in UTF-16 units: a negative offset or
    length, an entity starting or ending past the text, or one splitting a character is
    refused; empty ones are dropped; the text is trimmed and the entities clipped to it."""
    tg = telegram_emulator
    no_flood(tg)
    tg.send_text(USER, "hi")

    def bold(offset: int, length: int) -> list[MessageEntity]:
        return [MessageEntity(type="bold", offset=offset, length=length)]

    refusals = [
        ("abc", bold(-1, 1), "receive an entity with incorrect offset -1"),
        ("abc", bold(0, -1), "receive an entity with incorrect length -1"),
        ("abc", bold(4, 1), "entity begins after the end of the text at UTF-16 offset 4"),
        ("abc", bold(1, 3), "at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 4"),
        ("😀 x", bold(1, 2), "in the middle of a UTF-16 symbol"),
        ("😀", bold(0, 3), "ends after the end of the text at UTF-16 offset 3"),
    ]
    for text, entities, error in refusals:
        with pytest.raises(TelegramBadRequest, match=error):
            await telegram_bot.send_message(USER, text, entities=entities)
    with pytest.raises(TelegramBadRequest, match="Unsupported type"):
        await telegram_bot.send_message(
            USER, "abc", entities=[MessageEntity(type="sparkle", offset=0, length=1)]
        )
    sent = await telegram_bot.send_message(
        USER,
        " 😀 bold \n",
        entities=[*bold(3, 6), MessageEntity(type="italic", offset=0, length=0)],
    )
    assert sent.text == "😀 bold"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 2, 5)]
    assert tg.bot_messages(USER)[-1].parse_mode is None


async def test_markdown_errors_and_length_limit(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """Bad MarkdownV2 is 400 can't parse entities; over 4096 chars (after parsing) is too long."""
    tg = telegram_emulator
    no_flood(tg)
    tg.send_text(USER, "hi")
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Character '!' is reserved"):
        await telegram_bot.send_message(USER, "Hello!", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end of Bold"):
        await telegram_bot.send_message(USER, "*open", parse_mode="MarkdownV2")
    await telegram_bot.send_message(USER, "*" + "x" * 4096 + "*", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await telegram_bot.send_message(USER, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await telegram_bot.send_message(USER, "   ")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await telegram_bot.send_message(999999, "nobody")
    assert len(tg.bot_messages(USER)) == 1
    assert [c.error is not None for c in tg.calls("sendMessage")] == [
        True,
        True,
        False,
        True,
        True,
        True,
    ]


async def test_flood_control_private_and_group(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """Past the burst a private chat gets 429 retry_after; groups get 20 per minute."""
    tg = telegram_emulator
    tg.send_text(USER, "hi")
    for i in range(3):
        await telegram_bot.send_message(USER, f"m{i}")
    with pytest.raises(TelegramRetryAfter) as info:
        await telegram_bot.send_message(USER, "too fast")
    assert info.value.retry_after >= 1
    assert "Too Many Requests: retry after" in info.value.message
    tg.add_group(GROUP, title="Team")
    tg.send_text(GROUP, "hello group", user_id=USER)
    for i in range(20):
        await telegram_bot.send_message(GROUP, f"g{i}")
    with pytest.raises(TelegramRetryAfter) as group_info:
        await telegram_bot.send_message(GROUP, "g21")
    assert group_info.value.retry_after > 30
    tg.configure_flood(enabled=False)
    await telegram_bot.send_message(GROUP, "now allowed")


async def test_message_drafts(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """sendMessageDraft keeps the latest text per draft_id; a final sendMessage hides it."""
    tg = telegram_emulator
    tg.send_text(USER, "question")
    for text in ("", "Hel", "Hello *wor*"):
        ok = await telegram_bot(
            SendMessageDraft(chat_id=USER, draft_id=7, text=text, parse_mode="MarkdownV2")
        )
        assert ok is True
    draft = tg.drafts(USER)[7]
    assert (draft.text, draft.active) == ("Hello wor", True)
    assert draft.history == ["", "Hel", "Hello wor"]
    await telegram_bot.send_message(USER, "Hello world")
    assert tg.drafts(USER)[7].active is False
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await telegram_bot(
            SendMessageDraft(chat_id=USER, draft_id=7, text="bad.", parse_mode="MarkdownV2")
        )
    tg.add_group(GROUP)
    with pytest.raises(TelegramBadRequest, match="private chats"):
        await telegram_bot(SendMessageDraft(chat_id=GROUP, draft_id=1, text="x"))


async def test_edit_and_delete(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """editMessageText changes the shown text (history kept); deleteMessage removes it."""
    tg = telegram_emulator
    no_flood(tg)
    user_msg = tg.send_text(USER, "hi")["message"]["message_id"]
    sent = await telegram_bot.send_message(USER, "draft 1")
    edited = await telegram_bot.edit_message_text(
        "_final_", chat_id=USER, message_id=sent.message_id, parse_mode="MarkdownV2"
    )
    assert not isinstance(edited, bool)
    assert edited.text == "final"
    shown = tg.bot_messages(USER)[0]
    assert (shown.text, shown.edits) == ("final", ["draft 1"])
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await telegram_bot.edit_message_text(
            "_final_", chat_id=USER, message_id=sent.message_id, parse_mode="MarkdownV2"
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await telegram_bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await telegram_bot.edit_message_text("x", chat_id=USER, message_id=user_msg)
    assert await telegram_bot.delete_message(USER, sent.message_id) is True
    assert tg.bot_messages(USER) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await telegram_bot.delete_message(USER, sent.message_id)


async def test_chat_actions(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """sendChatAction is recorded per chat; unknown actions are rejected."""
    telegram_emulator.send_text(USER, "hi")
    await telegram_bot.send_chat_action(USER, "typing")
    await telegram_bot.send_chat_action(USER, "upload_document")
    assert [a.action for a in telegram_emulator.chat_actions(USER)] == ["typing", "upload_document"]
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await telegram_bot.send_chat_action(USER, "dancing")


async def test_bot_uploads_and_file_download(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """sendPhoto/sendDocument uploads are stored; getFile + download return the same bytes."""
    tg = telegram_emulator
    no_flood(tg)
    tg.send_text(USER, "hi")
    image = png(64, 32)
    photo_msg = await telegram_bot.send_photo(
        USER, BufferedInputFile(image, "chart.png"), caption="*chart*", parse_mode="MarkdownV2"
    )
    assert photo_msg.photo is not None
    assert photo_msg.caption == "chart"
    largest = photo_msg.photo[-1]
    assert (largest.width, largest.height) == (64, 32)
    assert tg.file_bytes(largest.file_id) == image
    file = await telegram_bot.get_file(largest.file_id)
    assert file.file_path is not None
    downloaded = await telegram_bot.download_file(file.file_path)
    assert downloaded is not None
    assert downloaded.getvalue() == image
    doc_msg = await telegram_bot.send_document(USER, BufferedInputFile(b"a,b\n1,2\n", "data.csv"))
    assert doc_msg.document is not None
    assert doc_msg.document.file_name == "data.csv"
    assert tg.file_bytes(doc_msg.document.file_id) == b"a,b\n1,2\n"
    again = await telegram_bot.send_document(USER, doc_msg.document.file_id)
    assert again.document is not None
    assert again.document.file_id == doc_msg.document.file_id
    assert [m.kind for m in tg.bot_messages(USER)] == ["photo", "document", "document"]
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await telegram_bot.send_photo(USER, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await telegram_bot.get_file("no-such-file-id")


async def test_send_media_group(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """sendMediaGroup stores 2-10 items sharing a media_group_id; one item is rejected."""
    tg = telegram_emulator
    no_flood(tg)
    tg.send_text(USER, "hi")
    album = await telegram_bot.send_media_group(
        USER,
        [
            InputMediaPhoto(media=BufferedInputFile(png(), "a.png"), caption="first"),
            InputMediaPhoto(media=BufferedInputFile(png(10, 10), "b.png")),
        ],
    )
    assert len(album) == 2
    assert album[0].media_group_id == album[1].media_group_id
    shown = tg.bot_messages(USER)
    assert [m.text for m in shown] == ["first", None]
    assert tg.file_bytes(shown[1].file_ids[0]) == png(10, 10)
    with pytest.raises(TelegramBadRequest, match="wrong number of messages"):
        await telegram_bot.send_media_group(
            USER, [InputMediaDocument(media=BufferedInputFile(b"x", "x.txt"))]
        )


async def test_user_media_reaches_the_bot(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """Injected photos, documents, voice and albums parse in aiogram and download intact."""
    tg = telegram_emulator
    tg.send_photo(USER, png(40, 20), caption="look")
    tg.send_document(USER, b"%PDF-1.4 test", file_name="paper.pdf", mime_type="application/pdf")
    tg.send_voice(USER, b"OggS voice", duration=3)
    tg.send_media_group(
        USER, [MediaItem("photo", png()), MediaItem("photo", png(8, 8), caption="two")]
    )
    updates = await telegram_bot.get_updates()
    messages = [u.message for u in updates]
    assert all(m is not None for m in messages)
    photo, doc, voice, album1, album2 = (m for m in messages if m is not None)
    assert photo.photo is not None
    assert photo.caption == "look"
    assert photo.photo[-1].width == 40
    assert doc.document is not None
    assert doc.document.mime_type == "application/pdf"
    assert voice.voice is not None
    assert voice.voice.duration == 3
    assert album1.media_group_id is not None
    assert album1.media_group_id == album2.media_group_id
    for file_id, expected in [
        (photo.photo[-1].file_id, png(40, 20)),
        (doc.document.file_id, b"%PDF-1.4 test"),
        (voice.voice.file_id, b"OggS voice"),
    ]:
        file = await telegram_bot.get_file(file_id)
        assert file.file_path is not None
        data = await telegram_bot.download_file(file.file_path)
        assert data is not None
        assert data.getvalue() == expected


async def test_user_edits_and_stop_button(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """A user's edit arrives as edited_message; the stop button as stopped_message_generation."""
    tg = telegram_emulator
    mid = tg.send_text(USER, "typo")["message"]["message_id"]
    tg.edit_message(USER, mid, "fixed")
    tg.stop_generation(USER, draft_id=7)
    updates = await telegram_bot.get_updates()
    edited = updates[1].edited_message
    assert edited is not None
    assert edited.text == "fixed"
    assert edited.edit_date is not None
    stopped = updates[2].stopped_message_generation
    assert stopped is not None
    assert stopped.draft_id == 7
    assert tg.messages(USER)[0].edits == ["typo"]


async def test_forum_topics(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """createForumTopic/editForumTopic keep titles; messages go to threads; rules enforced."""
    tg = telegram_emulator
    no_flood(tg)
    tg.add_group(GROUP, title="Forum", forum=True)
    topic = await telegram_bot.create_forum_topic(GROUP, "New chat")
    thread = topic.message_thread_id
    assert await telegram_bot.edit_forum_topic(GROUP, thread, name="Taxes in 2026") is True
    assert tg.topics(GROUP)[thread].name == "Taxes in 2026"
    assert tg.topics(GROUP)[thread].names == ["New chat", "Taxes in 2026"]
    sent = await telegram_bot.send_message(GROUP, "in topic", message_thread_id=thread)
    assert sent.message_thread_id == thread
    assert sent.is_topic_message
    user_topic = tg.create_topic(GROUP, "Question", user_id=USER)
    user_thread = user_topic["message"]["message_thread_id"]
    update = tg.send_text(GROUP, "topic message", user_id=USER, thread_id=user_thread)
    parsed = Update.model_validate(update)
    assert parsed.message is not None
    assert parsed.message.message_thread_id == user_thread
    assert [m.text for m in tg.messages(GROUP, thread_id=user_thread)] == [None, "topic message"]
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await telegram_bot.edit_forum_topic(GROUP, thread, name="Taxes in 2026")
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await telegram_bot.send_message(GROUP, "x", message_thread_id=424242)
    tg.send_text(USER, "hi")
    with pytest.raises(TelegramBadRequest, match="not a forum"):
        await telegram_bot.create_forum_topic(USER, "nope")


async def test_private_chat_topics(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """A private chat in topics mode accepts createForumTopic and threaded messages."""
    tg = telegram_emulator
    tg.add_private_chat(USER, first_name="Ann", topics=True)
    topic = await telegram_bot.create_forum_topic(USER, "Trip plans")
    await telegram_bot.send_message(USER, "ok", message_thread_id=topic.message_thread_id)
    assert tg.topics(USER)[topic.message_thread_id].name == "Trip plans"


async def test_set_my_commands(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """setMyCommands stores the menu (getMyCommands reads it back); bad names are rejected."""
    commands = [
        BotCommand(command="model", description="Choose a model"),
        BotCommand(command="pay", description="Top up"),
    ]
    assert await telegram_bot.set_my_commands(commands) is True
    assert [c.command for c in await telegram_bot.get_my_commands()] == ["model", "pay"]
    assert telegram_emulator.bot().commands["default:"][0]["command"] == "model"
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await telegram_bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])


async def test_stars_payment_flow(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """Invoice -> pre_checkout_query -> answer -> successful_payment -> refund, all recorded."""
    tg = telegram_emulator
    tg.send_text(USER, "/pay")
    invoice_msg = await telegram_bot.send_invoice(
        USER,
        title="50 Stars",
        description="Top up",
        payload="topup:50",
        currency="XTR",
        prices=[LabeledPrice(label="Stars", amount=50)],
    )
    assert invoice_msg.invoice is not None
    assert invoice_msg.invoice.total_amount == 50
    assert tg.invoices(USER)[0].payload == "topup:50"
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await telegram_bot.send_invoice(
            USER,
            title="t",
            description="d",
            payload="p",
            currency="XTR",
            prices=[LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=1)],
        )
    query = tg.pre_checkout_query(USER, 50, "topup:50")["pre_checkout_query"]
    updates = await telegram_bot.get_updates(offset=-1)
    assert updates[0].pre_checkout_query is not None
    assert updates[0].pre_checkout_query.invoice_payload == "topup:50"
    assert await telegram_bot.answer_pre_checkout_query(query["id"], ok=True) is True
    assert tg.bot().pre_checkout_queries[query["id"]].ok is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await telegram_bot.answer_pre_checkout_query(query["id"], ok=True)
    paid = tg.successful_payment(USER, 50, "topup:50")
    parsed = Update.model_validate(paid)
    assert parsed.message is not None
    assert parsed.message.successful_payment is not None
    charge = parsed.message.successful_payment.telegram_payment_charge_id
    assert await telegram_bot.refund_star_payment(USER, charge) is True
    assert [p.charge_id for p in tg.bot().refunds] == [charge]
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await telegram_bot.refund_star_payment(USER, charge)
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await telegram_bot.refund_star_payment(USER, "unknown")


async def test_rejected_pre_checkout_needs_message(
    telegram_bot: Bot, telegram_emulator: TelegramEmulator
) -> None:
    """ok=False must carry an error_message, which is recorded."""
    query_id = telegram_emulator.pre_checkout_query(USER, 10, "p")["pre_checkout_query"]["id"]
    with pytest.raises(TelegramBadRequest, match="error_message is empty"):
        await telegram_bot.answer_pre_checkout_query(query_id, ok=False)
    await telegram_bot.answer_pre_checkout_query(query_id, ok=False, error_message="Balance full")
    assert telegram_emulator.bot().pre_checkout_queries[query_id].error_message == "Balance full"


async def test_armed_failures(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """fail_next answers chosen calls with 429 / 5xx / any error, then behaves normally."""
    tg = telegram_emulator
    tg.send_text(USER, "hi")
    tg.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as info:
        await telegram_bot.send_message(USER, "x")
    assert info.value.retry_after == 7
    tg.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    with pytest.raises(TelegramServerError):
        await telegram_bot.send_message(USER, "x")
    await telegram_bot.send_message(USER, "works")
    assert [m.text for m in tg.bot_messages(USER)] == ["works"]


async def test_reply_parameters(telegram_bot: Bot, telegram_emulator: TelegramEmulator) -> None:
    """Replies carry reply_to_message; a missing target is an error unless allowed."""
    mid = telegram_emulator.send_text(USER, "question")["message"]["message_id"]
    answer = await telegram_bot.send_message(USER, "answer", reply_to_message_id=mid)
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await telegram_bot.send_message(USER, "x", reply_to_message_id=999)

"""The gateway end to end in one process: emulator getUpdates -> Dispatcher -> real broker."""

from __future__ import annotations

import base64
from datetime import UTC
from typing import Any

from actors.gateway.batching import BatchConfig
from actors.thread.models import OPUS
from devkit.emulators.telegram import MediaItem, TelegramEmulator
from devkit.harness.gateway import GatewayFactory, TopicReader, polling
from events.catalog import THREAD_INBOX, USERS_COMMANDS
from events.thread import (
    ForumTopicCreatedReceived,
    NewConversationRequested,
    StopRequested,
    UserMessageEditReceived,
    UserMessageReceived,
)
from events.users import ModelChangeRequested, PersonalityChangeRequested, RegistrationRequested

USER = 5551234
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def test_text_message_lands_on_the_inbox(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """A user's text becomes exactly one UserMessageReceived keyed by the thread, and the
    user's first contact asks the users actor to register them."""
    telegram_emulator.add_private_chat(USER, first_name="Ada", username="ada")
    update = telegram_emulator.send_text(USER, "Hello Claude")
    async with open_test_gateway() as gateway, polling(gateway):
        (cmd,) = await topics.read(THREAD_INBOX, count=1, settle=0.5)
        (reg,) = await topics.read(USERS_COMMANDS, count=1)
    assert isinstance(cmd, UserMessageReceived)
    assert cmd.key == f"{USER}:0"
    assert cmd.producer == "gateway"
    assert cmd.update_id == update["update_id"]
    assert cmd.correlation_id == cmd.id
    m = cmd.message
    assert (m.chat_id, m.chat_type, m.message_id, m.text) == (USER, "private", 1, "Hello Claude")
    assert m.sent_at.tzinfo == UTC
    assert (m.sender.user_id, m.sender.first_name, m.sender.username) == (USER, "Ada", "ada")
    assert isinstance(reg, RegistrationRequested)
    assert reg.key == str(USER)
    assert reg.profile == m.sender
    assert reg.chat_id == USER


async def _album_then_a_text(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    topics: TopicReader,
    **options: Any,
) -> list[Any]:
    """An album of three (three updates, one getUpdates answer), and once its first record
    is in the inbox a text: the inbox's first two records (the album's parts, were it
    split, come before the text)."""
    telegram_emulator.add_private_chat(USER)
    telegram_emulator.send_media_group(
        USER,
        [
            MediaItem("photo", PNG, caption="three cats"),
            MediaItem("photo", PNG),
            MediaItem("document", b"%PDF-1.4", file_name="a.pdf", mime_type="application/pdf"),
        ],
    )
    async with open_test_gateway(**options) as gateway, polling(gateway):
        await topics.read(THREAD_INBOX, count=1)
        telegram_emulator.send_text(USER, "next")
        return await topics.read(THREAD_INBOX, count=2)


async def test_media_group_becomes_one_command(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """An album of three photos (three updates) reaches the inbox as one message."""
    cmd, after = await _album_then_a_text(open_test_gateway, telegram_emulator, topics)
    assert isinstance(cmd, UserMessageReceived)
    assert cmd.message.text == "three cats"
    assert [a.kind for a in cmd.message.attachments] == ["photo", "photo", "document"]
    assert cmd.message.attachments[2].file_name == "a.pdf"
    assert cmd.message.media_group_id is not None
    assert cmd.message.message_id == 1
    assert after.message.text == "next"


async def test_an_album_stays_one_message_however_slowly_the_gateway_gets_through_it(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """A gateway that takes longer over an album's parts than the batch window (here the
    window is 0 s: any time at all) still makes one message of it: parts are batched by
    when they arrived, and the window's timer waits for a part still being handled (in CI,
    on a loaded machine, an album once became two messages)."""
    records = await _album_then_a_text(
        open_test_gateway, telegram_emulator, topics, batch_config=BatchConfig(window=0.0)
    )
    assert [r.message.text for r in records] == ["three cats", "next"]
    assert len(records[0].message.attachments) == 3


async def test_repeated_update_id_is_dropped(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """The same update delivered twice writes one command."""
    chat = telegram_emulator.add_private_chat(USER)
    body = {
        "update_id": 777,
        "message": {
            "message_id": 5,
            "date": 1767225600,
            "chat": chat.to_json(),
            "from": {"id": USER, "is_bot": False, "first_name": "Ada"},
            "text": "only once",
        },
    }
    async with open_test_gateway() as gateway, polling(gateway):
        telegram_emulator.inject_update(body)
        await topics.read(THREAD_INBOX, count=1)
        telegram_emulator.inject_update(body)
        telegram_emulator.send_text(USER, "next")
        records = await topics.read(THREAD_INBOX, count=2, settle=0.5)
    assert [r.message.text for r in records] == ["only once", "next"]


async def test_stop_new_and_edit_commands(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """/stop, /new and an edit become their commands, in the order the user sent them."""
    telegram_emulator.add_private_chat(USER)
    first = telegram_emulator.send_text(USER, "write me a poem")
    telegram_emulator.send_command(USER, "stop")
    telegram_emulator.edit_message(USER, first["message"]["message_id"], "write me a haiku")
    telegram_emulator.send_command(USER, "new")
    async with open_test_gateway() as gateway, polling(gateway):
        records = await topics.read(THREAD_INBOX, count=4, settle=0.5)
        await telegram_emulator.wait_until(
            lambda: any(
                "New conversation" in (m.text or "") for m in telegram_emulator.bot_messages(USER)
            )
        )
    assert [type(r) for r in records] == [
        UserMessageReceived,
        StopRequested,
        UserMessageEditReceived,
        NewConversationRequested,
    ]
    stop, edit, new = records[1], records[2], records[3]
    assert isinstance(stop, StopRequested)
    assert (stop.key, stop.user_id) == (f"{USER}:0", USER)
    assert isinstance(edit, UserMessageEditReceived)
    assert edit.message.message_id == first["message"]["message_id"]
    assert edit.message.text == "write me a haiku"
    assert isinstance(new, NewConversationRequested)
    assert new.user_id == USER


async def test_sticker_gets_a_reply_and_no_command(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """A sticker is answered with a clear 'unsupported' reply and starts no turn."""
    chat = telegram_emulator.add_private_chat(USER)
    telegram_emulator.inject_update(
        {
            "message": {
                "message_id": 3,
                "date": 1767225600,
                "chat": chat.to_json(),
                "from": {"id": USER, "is_bot": False, "first_name": "Ada"},
                "sticker": {
                    "file_id": "CAACst",
                    "file_unique_id": "s1",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                },
            }
        }
    )
    telegram_emulator.send_text(USER, "after the sticker")
    async with open_test_gateway() as gateway, polling(gateway):
        records = await topics.read(THREAD_INBOX, count=1, settle=0.5)
        await telegram_emulator.wait_until(lambda: bool(telegram_emulator.bot_messages(USER)))
    assert [r.message.text for r in records] == ["after the sticker"]
    (reply,) = telegram_emulator.bot_messages(USER)
    assert "stickers" in (reply.text or "")


async def test_forum_topics_are_threads(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """A new forum topic and a message in it are keyed by the topic's thread key."""
    group = -1001234
    telegram_emulator.add_group(group, title="Lab", forum=True)
    created = telegram_emulator.create_topic(group, "Trip plans", user_id=USER)
    topic_id = created["message"]["message_thread_id"]
    telegram_emulator.send_text(group, "where to?", user_id=USER, thread_id=topic_id)
    async with open_test_gateway() as gateway, polling(gateway):
        records = await topics.read(THREAD_INBOX, count=2, settle=0.5)
    assert [r.key for r in records] == [f"{group}:{topic_id}"] * 2
    topic, message = records
    assert isinstance(topic, ForumTopicCreatedReceived)
    assert (topic.name, topic.created_by_user_id) == ("Trip plans", USER)
    assert isinstance(message, UserMessageReceived)
    assert message.message.message_thread_id == topic_id
    assert message.message.is_topic_message


async def test_model_and_personality_commands(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """/model shows a keyboard whose button asks for the model; /personality sets a prompt."""
    chat = telegram_emulator.add_private_chat(USER)
    telegram_emulator.send_command(USER, "personality", "You are a pirate.")
    telegram_emulator.send_command(USER, "model")
    async with open_test_gateway() as gateway, polling(gateway):
        await telegram_emulator.wait_until(
            lambda: any(m.json.get("reply_markup") for m in telegram_emulator.bot_messages(USER))
        )
        keyboard_msg = next(
            m for m in telegram_emulator.bot_messages(USER) if m.json.get("reply_markup")
        )
        buttons = keyboard_msg.json["reply_markup"]["inline_keyboard"]
        opus = next(b[0] for b in buttons if "Opus" in b[0]["text"])
        telegram_emulator.inject_update(
            {
                "callback_query": {
                    "id": "cb1",
                    "from": {"id": USER, "is_bot": False, "first_name": "Ada"},
                    "chat_instance": "ci",
                    "message": keyboard_msg.json,
                    "data": opus["callback_data"],
                }
            }
        )
        records = await topics.read(USERS_COMMANDS, count=3, settle=0.5)
    assert chat.id == USER
    kinds = [type(r) for r in records]
    assert kinds == [RegistrationRequested, PersonalityChangeRequested, ModelChangeRequested]
    assert records[1].personality == "You are a pirate."
    assert records[2].model == OPUS

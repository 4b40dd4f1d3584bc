"""Normalization: real Telegram updates (as JSON) through aiogram and the pure converters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from telegram_samples import DATE, FORUM, PRIVATE, USER, photo_sizes, update

from actors.gateway.normalize import (
    MAX_DOWNLOAD_BYTES,
    Accepted,
    Ignored,
    Normalized,
    Refused,
    TopicCreated,
)
from infra.gateway.convert import normalize_message


def norm(kind: str = "message", **fields: Any) -> Normalized:
    upd = update(kind=kind, **fields)
    msg = upd.message or upd.edited_message
    assert msg is not None
    return normalize_message(msg)


def accepted(**fields: Any) -> Accepted:
    result = norm(**fields)
    assert isinstance(result, Accepted), result
    return result


def test_text_message_keeps_sender_chat_and_time() -> None:
    """A private text becomes a UserMessage with the sender's profile and UTC send time."""
    result = accepted(text="Hello Claude")
    m = result.message
    assert (m.chat_id, m.chat_type, m.message_id, m.text) == (
        5551234,
        "private",
        10,
        "Hello Claude",
    )
    assert m.message_thread_id is None
    assert m.sent_at == datetime.fromtimestamp(DATE, UTC)
    assert m.sender.user_id == USER["id"]
    assert (m.sender.first_name, m.sender.last_name, m.sender.username) == (
        "Ada",
        "Lovelace",
        "ada",
    )
    assert m.sender.language_code == "en"
    assert result.notices == ()


def test_photo_keeps_largest_size_and_caption() -> None:
    """A photo keeps only its largest size; the caption becomes the text."""
    m = accepted(photo=photo_sizes("AgACbig"), caption="what is this?").message
    assert m.text == "what is this?"
    assert len(m.attachments) == 1
    a = m.attachments[0]
    assert (a.kind, a.file_id, a.width, a.height, a.file_size) == (
        "photo",
        "AgACbig",
        1280,
        853,
        120_000,
    )


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        (
            "document",
            {
                "file_id": "BQACdoc",
                "file_unique_id": "d1",
                "file_name": "paper.pdf",
                "mime_type": "application/pdf",
                "file_size": 1_000_000,
            },
            {"file_name": "paper.pdf", "mime_type": "application/pdf", "file_size": 1_000_000},
        ),
        (
            "voice",
            {
                "file_id": "AwACvoice",
                "file_unique_id": "v1",
                "duration": 7,
                "mime_type": "audio/ogg",
                "file_size": 30_000,
            },
            {"duration_seconds": 7, "mime_type": "audio/ogg"},
        ),
        (
            "audio",
            {
                "file_id": "CQACaudio",
                "file_unique_id": "a1",
                "duration": 200,
                "file_name": "song.mp3",
                "mime_type": "audio/mpeg",
                "file_size": 4_000_000,
            },
            {"duration_seconds": 200, "file_name": "song.mp3"},
        ),
        (
            "video",
            {
                "file_id": "BAACvideo",
                "file_unique_id": "vi1",
                "width": 1920,
                "height": 1080,
                "duration": 12,
                "mime_type": "video/mp4",
                "file_size": 9_000_000,
            },
            {"width": 1920, "height": 1080, "duration_seconds": 12},
        ),
        (
            "video_note",
            {
                "file_id": "DQACnote",
                "file_unique_id": "n1",
                "length": 240,
                "duration": 5,
                "file_size": 500_000,
            },
            {"width": 240, "height": 240, "duration_seconds": 5},
        ),
    ],
)
def test_file_kinds_become_attachments(
    kind: str, payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Documents, voice, audio, video and video notes become attachments of their kind."""
    m = accepted(**{kind: payload}).message
    assert m.text == ""
    (a,) = m.attachments
    assert a.kind == kind
    assert a.file_id == payload["file_id"]
    for field, value in expected.items():
        assert getattr(a, field) == value


def test_animation_is_kept_once() -> None:
    """A GIF arrives as animation plus document; it is kept once, as an animation."""
    anim = {
        "file_id": "CgACgif",
        "file_unique_id": "g1",
        "width": 200,
        "height": 200,
        "duration": 3,
        "file_size": 90_000,
        "mime_type": "video/mp4",
    }
    m = accepted(animation=anim, document={"file_id": "CgACgif", "file_unique_id": "g1"}).message
    assert [a.kind for a in m.attachments] == ["animation"]


def test_sticker_is_refused_with_a_reply() -> None:
    """A sticker is not silently dropped: the user is told it can't be read."""
    result = norm(
        sticker={
            "file_id": "CAACst",
            "file_unique_id": "s1",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
    )
    assert isinstance(result, Refused)
    assert result.user_id == USER["id"]
    (notice,) = result.notices
    assert notice.kind == "unsupported"
    assert "stickers" in notice.text("en")
    assert "стикеры" in notice.text("ru")


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [
        ("location", {"latitude": 1.0, "longitude": 2.0}, "locations"),
        ("contact", {"phone_number": "+100", "first_name": "Bob"}, "contacts"),
        ("dice", {"emoji": "🎲", "value": 3}, "dice"),
    ],
)
def test_other_unsupported_kinds_get_a_reply(field: str, value: Any, word: str) -> None:
    """Locations, contacts, dice... are refused with a reply naming the kind."""
    result = norm(**{field: value})
    assert isinstance(result, Refused)
    assert word in result.notices[0].text("en")


def test_oversized_document_is_dropped_but_caption_kept() -> None:
    """A file over 20 MB is dropped with a reply; the caption still reaches the conversation."""
    big = {
        "file_id": "BQACbig",
        "file_unique_id": "b1",
        "file_name": "dump.zip",
        "file_size": MAX_DOWNLOAD_BYTES + 1,
    }
    result = accepted(document=big, caption="see attached")
    assert result.message.text == "see attached"
    assert result.message.attachments == ()
    (notice,) = result.notices
    assert notice.kind == "too_large"
    assert "dump.zip" in notice.text("en")
    assert "20 MB" in notice.text("en")
    assert "dump.zip" in notice.text("ru")
    assert "20 МБ" in notice.text("ru")


def test_oversized_file_alone_is_refused() -> None:
    """A message with nothing but an oversized file is refused with a reply, not forwarded."""
    big = {
        "file_id": "BAACbig",
        "file_unique_id": "b2",
        "width": 640,
        "height": 480,
        "duration": 600,
        "file_size": 50 * 1024 * 1024,
    }
    result = norm(video=big)
    assert isinstance(result, Refused)
    assert result.notices[0].kind == "too_large"


def test_reply_with_quote() -> None:
    """A reply carries the replied-to message (author, text) and the quoted part."""
    replied = {
        "message_id": 7,
        "date": DATE - 60,
        "chat": PRIVATE,
        "from": {"id": 999, "is_bot": True, "first_name": "Bot"},
        "text": "The answer is 42 because of reasons.",
    }
    m = accepted(
        text="why?",
        reply_to_message=replied,
        quote={"text": "because of reasons", "position": 17, "is_manual": True},
    ).message
    assert m.reply_to is not None
    r = m.reply_to
    assert (r.message_id, r.from_user_id, r.from_bot) == (7, 999, True)
    assert r.text == "The answer is 42 because of reasons."
    assert (r.quote, r.quote_position) == ("because of reasons", 17)


def test_reply_to_a_caption_uses_the_caption() -> None:
    """A reply to a photo message carries the photo's caption as the replied text."""
    replied = {
        "message_id": 8,
        "date": DATE - 5,
        "chat": PRIVATE,
        "from": USER,
        "photo": photo_sizes(),
        "caption": "my cat",
    }
    m = accepted(text="and this one?", reply_to_message=replied).message
    assert m.reply_to is not None
    assert m.reply_to.text == "my cat"


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (
            {
                "type": "user",
                "date": DATE - 100,
                "sender_user": {"id": 77, "is_bot": False, "first_name": "Bob", "last_name": "B"},
            },
            {"kind": "user", "sender_user_id": 77, "sender_name": "Bob B"},
        ),
        (
            {"type": "hidden_user", "date": DATE - 100, "sender_user_name": "Mystery"},
            {"kind": "hidden_user", "sender_name": "Mystery", "sender_user_id": None},
        ),
        (
            {
                "type": "channel",
                "date": DATE - 100,
                "message_id": 555,
                "chat": {"id": -100777, "type": "channel", "title": "News"},
            },
            {"kind": "channel", "chat_id": -100777, "chat_title": "News", "message_id": 555},
        ),
        (
            {
                "type": "chat",
                "date": DATE - 100,
                "sender_chat": {"id": -100888, "type": "supergroup", "title": "Group"},
            },
            {"kind": "chat", "chat_id": -100888, "chat_title": "Group"},
        ),
    ],
)
def test_forwards_keep_their_origin(origin: dict[str, Any], expected: dict[str, Any]) -> None:
    """Forwarded messages say where they came from (user, hidden user, chat, channel)."""
    m = accepted(text="fwd", forward_origin=origin).message
    assert m.forward_origin is not None
    assert m.forward_origin.date == datetime.fromtimestamp(DATE - 100, UTC)
    for field, value in expected.items():
        assert getattr(m.forward_origin, field) == value


def test_forum_topic_message_is_keyed_by_topic() -> None:
    """A message in a forum topic carries the topic id (its thread)."""
    m = accepted(chat=FORUM, text="hi", message_thread_id=42, is_topic_message=True).message
    assert (m.chat_id, m.message_thread_id, m.is_topic_message) == (-1001234, 42, True)


def test_topic_in_private_chat() -> None:
    """Topics in a private chat with the bot are threads too."""
    chat = {**PRIVATE, "is_forum": True}
    m = accepted(chat=chat, text="hi", message_thread_id=5, is_topic_message=True).message
    assert (m.chat_type, m.message_thread_id) == ("private", 5)


def test_reply_thread_in_plain_group_is_not_a_topic() -> None:
    """In a group without topics, message_thread_id names a reply thread, not a conversation."""
    group = {"id": -100555, "type": "supergroup", "title": "G"}
    m = accepted(chat=group, text="hi", message_thread_id=3).message
    assert m.message_thread_id is None


def test_forum_topic_created() -> None:
    """A forum_topic_created service message becomes a topic with its name and creator."""
    result = norm(
        chat=FORUM,
        message_id=42,
        message_thread_id=42,
        is_topic_message=True,
        forum_topic_created={"name": "Trip plans", "icon_color": 7322096},
    )
    assert result == TopicCreated(
        chat_id=-1001234,
        message_thread_id=42,
        name="Trip plans",
        created_by_user_id=USER["id"],
        icon_custom_emoji_id=None,
        created_at=datetime.fromtimestamp(DATE, UTC),
    )


def test_media_group_item_keeps_group_id() -> None:
    """Album items keep their media_group_id so they can be batched."""
    m = accepted(photo=photo_sizes(), media_group_id="13579").message
    assert m.media_group_id == "13579"


def test_edited_message_normalizes_like_a_message() -> None:
    """An edited message normalizes to its new content."""
    result = norm(kind="edited_message", text="fixed typo", edit_date=DATE + 30)
    assert isinstance(result, Accepted)
    assert result.message.text == "fixed typo"


@pytest.mark.parametrize(
    "fields",
    [
        {"new_chat_members": [USER]},
        {"pinned_message": {"message_id": 1, "date": DATE, "chat": PRIVATE}},
        {"forum_topic_edited": {"name": "x"}},
    ],
)
def test_service_messages_are_ignored(fields: dict[str, Any]) -> None:
    """Service messages (members, pins, topic edits) are not conversation input."""
    assert isinstance(norm(**fields), Ignored)


def test_messages_from_bots_are_ignored() -> None:
    """Another bot's message never starts a turn."""
    bot = {"id": 1, "is_bot": True, "first_name": "OtherBot"}
    assert isinstance(norm(text="hi", **{"from": bot}), Ignored)

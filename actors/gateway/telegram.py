"""The part of Telegram's Bot API wire format the gateway reads, as msgspec structs.

Built from Telegram's own JSON (a ``Message`` object, keys as Telegram spells them, e.g.
``from``); unknown fields are ignored, so a new Bot API version never breaks decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec


class TgUser(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False


class TgChat(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    is_forum: bool = False


class TgPhotoSize(msgspec.Struct, frozen=True, kw_only=True):
    file_id: str
    file_unique_id: str
    width: int = 0
    height: int = 0
    file_size: int | None = None


class TgFile(msgspec.Struct, frozen=True, kw_only=True):
    """Document, audio, voice, video, video note, animation or sticker."""

    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None
    length: int | None = None  # video notes are square: one side
    duration: int | None = None


class TgTextQuote(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    position: int = 0


class TgMessageOrigin(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    date: int
    sender_user: TgUser | None = None
    sender_user_name: str | None = None
    sender_chat: TgChat | None = None
    chat: TgChat | None = None
    message_id: int | None = None


class TgRepliedMessage(msgspec.Struct, frozen=True, kw_only=True, rename={"from_": "from"}):
    message_id: int
    from_: TgUser | None = None
    text: str | None = None
    caption: str | None = None


class TgExternalReply(msgspec.Struct, frozen=True, kw_only=True):
    origin: TgMessageOrigin | None = None
    message_id: int | None = None


class TgForumTopicCreated(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    icon_color: int | None = None
    icon_custom_emoji_id: str | None = None


class TgMessage(msgspec.Struct, frozen=True, kw_only=True, rename={"from_": "from"}):
    message_id: int
    date: int
    chat: TgChat
    from_: TgUser | None = None
    message_thread_id: int | None = None
    is_topic_message: bool = False
    edit_date: int | None = None
    text: str | None = None
    caption: str | None = None
    photo: tuple[TgPhotoSize, ...] = ()
    document: TgFile | None = None
    audio: TgFile | None = None
    voice: TgFile | None = None
    video: TgFile | None = None
    video_note: TgFile | None = None
    animation: TgFile | None = None
    sticker: TgFile | None = None
    media_group_id: str | None = None
    reply_to_message: TgRepliedMessage | None = None
    external_reply: TgExternalReply | None = None
    quote: TgTextQuote | None = None
    forward_origin: TgMessageOrigin | None = None
    forum_topic_created: TgForumTopicCreated | None = None


class TelegramFormatError(ValueError):
    """Telegram JSON that does not describe a message (a bug upstream, never user input)."""


def parse_message(raw: Mapping[str, Any]) -> TgMessage:
    """A :class:`TgMessage` from a Message as Telegram sends it (a JSON object)."""
    try:
        return msgspec.convert(raw, TgMessage, strict=False)
    except msgspec.ValidationError as exc:
        raise TelegramFormatError(str(exc)) from None

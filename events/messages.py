"""What a Telegram user sent: the content carried by thread inbox commands and thread events.

Enumerations from Telegram (chat types, attachment kinds, forward origins) are plain strings
on the wire, so a new Telegram kind needs no schema change; the known values are listed here.
"""

from __future__ import annotations

from typing import Final

from events.envelope import Payload, UtcDatetime

CHAT_TYPES: Final = ("private", "group", "supergroup", "channel")
ATTACHMENT_KINDS: Final = (
    "photo",
    "document",
    "audio",
    "voice",
    "video",
    "video_note",
    "animation",
    "sticker",
)
FORWARD_ORIGIN_KINDS: Final = ("user", "hidden_user", "chat", "channel")


class TelegramUser(Payload, frozen=True, kw_only=True):
    """The sender's Telegram profile as seen on this message."""

    user_id: int
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    is_bot: bool = False


class Attachment(Payload, frozen=True, kw_only=True):
    """A file attached to a message; the bytes stay at Telegram until downloaded.

    ``kind`` is one of :data:`ATTACHMENT_KINDS`; for photos, the largest size is kept.
    """

    kind: str
    file_id: str
    file_unique_id: str
    mime_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: int | None = None


class ReplyTo(Payload, frozen=True, kw_only=True):
    """The message this one replies to, with the part the user quoted if any."""

    message_id: int
    from_user_id: int | None = None
    from_bot: bool = False
    text: str | None = None
    quote: str | None = None
    quote_position: int | None = None


class ForwardOrigin(Payload, frozen=True, kw_only=True):
    """Where a forwarded message came from; ``kind`` is one of :data:`FORWARD_ORIGIN_KINDS`."""

    kind: str
    date: UtcDatetime
    sender_name: str | None = None
    sender_user_id: int | None = None
    chat_id: int | None = None
    chat_title: str | None = None
    message_id: int | None = None


class UserMessage(Payload, frozen=True, kw_only=True):
    """One Telegram message from a user, reduced to what the conversation needs.

    Messages of an album share ``media_group_id``; the thread actor batches them (and split
    long texts arriving within ~200 ms) into one turn.
    """

    chat_id: int
    chat_type: str
    message_thread_id: int | None = None
    message_id: int
    sender: TelegramUser
    sent_at: UtcDatetime
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    reply_to: ReplyTo | None = None
    forward_origin: ForwardOrigin | None = None
    media_group_id: str | None = None
    is_topic_message: bool = False
    merged_message_ids: tuple[int, ...] = ()
    """Ids of the later messages merged into this one (album parts, a split paste), oldest
    first; ``message_id`` is the first part's. Empty for a single message."""

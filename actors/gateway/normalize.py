"""What a Telegram message means for a conversation: a user message, a topic, or a refusal.

Pure: Telegram's JSON in (see :mod:`.telegram`), a :data:`Normalized` value out. A message
is kept when it has text, a caption or a file the bot can download; stickers, polls,
locations and the like are refused with a reply (never silence); files over the Bot API's
20 MB download limit are dropped with a reply while the rest of the message is kept;
service messages (members joining, pins, payments...) are ignored quietly by the
conversation; a ``refunded_payment`` is read for the ledger by
:func:`actors.gateway.refunds.refunded_payment`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias

from actors.gateway import replies
from actors.gateway.telegram import (
    TgFile,
    TgMessage,
    TgMessageOrigin,
    TgPhotoSize,
    TgUser,
    parse_message,
)
from actors.texts import Language
from events.messages import Attachment, ForwardOrigin, ReplyTo, TelegramUser, UserMessage

MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
"""Files larger than this cannot be downloaded through the Bot API (getFile)."""

FILE_KINDS: Final = ("document", "audio", "voice", "video", "video_note", "animation")

SERVICE_KEYS: Final = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "channel_chat_created",
        "message_auto_delete_timer_changed",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "successful_payment",
        "refunded_payment",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "general_forum_topic_hidden",
        "general_forum_topic_unhidden",
        "write_access_allowed",
        "connected_website",
        "proximity_alert_triggered",
        "boost_added",
        "chat_background_set",
        "video_chat_scheduled",
        "video_chat_started",
        "video_chat_ended",
        "video_chat_participants_invited",
        "giveaway_created",
        "giveaway_winners",
        "giveaway_completed",
        "gift",
        "unique_gift",
        "gift_upgrade_sent",
        "chat_owner_left",
        "chat_owner_changed",
        "checklist_tasks_done",
        "checklist_tasks_added",
        "direct_message_price_changed",
        "paid_message_price_changed",
        "managed_bot_created",
        "users_shared",
        "chat_shared",
        "user_shared",
        "poll_option_added",
        "poll_option_deleted",
        "suggested_post_approved",
        "suggested_post_approval_failed",
        "suggested_post_declined",
        "suggested_post_paid",
        "suggested_post_refunded",
        "community_chat_added",
        "community_chat_removed",
        "community_chat_joined",
    }
)
"""Events in a chat that are not something a user said to the bot: ignored quietly."""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell the user about their message (``kind``: unsupported, too_large):
    what it is about, worded in the user's language by :meth:`text`."""

    kind: str
    subject: str
    """The message kind refused (``sticker``), or the attachment kind too large (``photo``)."""
    file_name: str | None = None
    size_bytes: int = 0

    def text(self, language: Language) -> str:
        if self.kind == "too_large":
            return replies.file_too_large(
                language, self.subject, self.file_name, self.size_bytes, MAX_DOWNLOAD_BYTES
            )
        return replies.unsupported_kind(language, self.subject)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message for the conversation; ``notices`` say what was dropped from it."""

    message: UserMessage
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing in the message can be used: answer with the notices."""

    chat_id: int
    message_thread_id: int | None
    message_id: int
    user_id: int
    notices: tuple[Notice, ...]


@dataclass(frozen=True, slots=True)
class TopicCreated:
    """A forum topic was opened (in a supergroup or in a private chat with topics)."""

    chat_id: int
    message_thread_id: int
    name: str
    created_by_user_id: int | None
    icon_custom_emoji_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Ignored:
    """Not for the conversation (a service message, a bot, a channel post)."""

    reason: str


Normalized: TypeAlias = Accepted | Refused | TopicCreated | Ignored


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def topic_id(msg: TgMessage) -> int | None:
    """The forum topic a message belongs to, or ``None`` (no topics, or the General topic).

    Only topic messages count: in ordinary groups ``message_thread_id`` names a reply
    thread, which is not a separate conversation.
    """
    if msg.is_topic_message or msg.forum_topic_created is not None:
        return msg.message_thread_id
    return None


def telegram_user(user: TgUser) -> TelegramUser:
    return TelegramUser(
        user_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        is_premium=user.is_premium,
        is_bot=user.is_bot,
    )


def _photo(sizes: tuple[TgPhotoSize, ...]) -> tuple[Attachment | None, Notice | None]:
    """The largest size the bot can download (Telegram lists sizes smallest first)."""
    fitting = [s for s in sizes if (s.file_size or 0) <= MAX_DOWNLOAD_BYTES]
    if not fitting:
        biggest = max(sizes, key=lambda s: s.file_size or 0)
        return None, Notice("too_large", "photo", size_bytes=biggest.file_size or 0)
    best = max(fitting, key=lambda s: (s.width * s.height, s.file_size or 0))
    return (
        Attachment(
            kind="photo",
            file_id=best.file_id,
            file_unique_id=best.file_unique_id,
            file_size=best.file_size,
            width=best.width or None,
            height=best.height or None,
        ),
        None,
    )


def _file(kind: str, f: TgFile) -> tuple[Attachment | None, Notice | None]:
    if f.file_size is not None and f.file_size > MAX_DOWNLOAD_BYTES:
        return None, Notice("too_large", kind, f.file_name, f.file_size)
    side = f.length
    return (
        Attachment(
            kind=kind,
            file_id=f.file_id,
            file_unique_id=f.file_unique_id,
            mime_type=f.mime_type,
            file_name=f.file_name,
            file_size=f.file_size,
            width=f.width if f.width is not None else side,
            height=f.height if f.height is not None else side,
            duration_seconds=f.duration,
        ),
        None,
    )


def _attachments(msg: TgMessage) -> tuple[tuple[Attachment, ...], tuple[Notice, ...]]:
    found: list[Attachment] = []
    notices: list[Notice] = []
    candidates: list[tuple[Attachment | None, Notice | None]] = []
    if msg.photo:
        candidates.append(_photo(msg.photo))
    for kind in FILE_KINDS:
        f: TgFile | None = getattr(msg, kind)
        # an animation also carries its first frame as "document"; keep only the animation
        if f is not None and not (kind == "document" and msg.animation is not None):
            candidates.append(_file(kind, f))
    for attachment, notice in candidates:
        if attachment is not None:
            found.append(attachment)
        if notice is not None:
            notices.append(notice)
    return tuple(found), tuple(notices)


def forward_origin(origin: TgMessageOrigin) -> ForwardOrigin:
    source_chat = origin.chat or origin.sender_chat
    return ForwardOrigin(
        kind=origin.type,
        date=utc(origin.date),
        sender_name=(
            origin.sender_user_name
            if origin.sender_user is None
            else " ".join(
                p for p in (origin.sender_user.first_name, origin.sender_user.last_name) if p
            )
        ),
        sender_user_id=origin.sender_user.id if origin.sender_user else None,
        chat_id=source_chat.id if source_chat else None,
        chat_title=source_chat.title if source_chat else None,
        message_id=origin.message_id,
    )


def reply_to(msg: TgMessage) -> ReplyTo | None:
    quote = msg.quote
    replied = msg.reply_to_message
    if replied is not None:
        return ReplyTo(
            message_id=replied.message_id,
            from_user_id=replied.from_.id if replied.from_ else None,
            from_bot=bool(replied.from_ and replied.from_.is_bot),
            text=replied.text if replied.text is not None else replied.caption,
            quote=quote.text if quote else None,
            quote_position=quote.position if quote else None,
        )
    external = msg.external_reply
    if external is not None:  # a reply to a message of another chat
        return ReplyTo(
            message_id=external.message_id or 0,
            quote=quote.text if quote else None,
            quote_position=quote.position if quote else None,
        )
    return None


def user_message(
    msg: TgMessage, sender: TgUser, attachments: tuple[Attachment, ...]
) -> UserMessage:
    return UserMessage(
        chat_id=msg.chat.id,
        chat_type=msg.chat.type,
        message_thread_id=topic_id(msg),
        message_id=msg.message_id,
        sender=telegram_user(sender),
        sent_at=utc(msg.date),
        text=msg.text if msg.text is not None else (msg.caption or ""),
        attachments=attachments,
        reply_to=reply_to(msg),
        forward_origin=forward_origin(msg.forward_origin) if msg.forward_origin else None,
        media_group_id=msg.media_group_id,
        is_topic_message=msg.is_topic_message,
    )


def _unsupported_kind(keys: Collection[str]) -> str | None:
    for key in replies.UNSUPPORTED_KINDS:
        if key in keys:
            return key
    return None


def normalize(raw: Mapping[str, Any]) -> Normalized:
    """What a message (Telegram's JSON of a ``Message``) means for the conversation."""
    msg = parse_message(raw)
    return normalize_parsed(msg, frozenset(raw))


def normalize_parsed(msg: TgMessage, keys: Collection[str]) -> Normalized:
    """:func:`normalize` for an already parsed message; ``keys`` are its JSON keys."""
    sender = msg.from_
    if msg.chat.type == "channel":
        return Ignored("channel post")
    if msg.forum_topic_created is not None and msg.message_thread_id is not None:
        created = msg.forum_topic_created
        return TopicCreated(
            chat_id=msg.chat.id,
            message_thread_id=msg.message_thread_id,
            name=created.name,
            created_by_user_id=sender.id if sender and not sender.is_bot else None,
            icon_custom_emoji_id=created.icon_custom_emoji_id,
            created_at=utc(msg.date),
        )
    if sender is None:
        return Ignored("no user sender (anonymous admin or channel)")
    if sender.is_bot:
        return Ignored("sent by a bot")
    attachments, notices = _attachments(msg)
    has_text = bool((msg.text or msg.caption or "").strip())
    if attachments or has_text:
        return Accepted(user_message(msg, sender, attachments), notices)
    if not notices:
        kind = _unsupported_kind(keys)
        if kind is None:
            if SERVICE_KEYS.intersection(keys):
                return Ignored("service message")
            if msg.text is not None or msg.caption is not None:
                return Ignored("empty text")
            kind = "unknown"
        notices = (Notice("unsupported", kind),)
    return Refused(
        chat_id=msg.chat.id,
        message_thread_id=topic_id(msg),
        message_id=msg.message_id,
        user_id=sender.id,
        notices=notices,
    )

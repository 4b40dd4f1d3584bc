"""Builders of inbox commands for the thread actor's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from events.envelope import new_envelope
from events.keys import thread_key
from events.messages import Attachment, TelegramUser, UserMessage
from events.thread import StopRequested, UserMessageReceived

USER = 4242
CHAT = 4242


def user_message(
    text: str = "hello",
    *,
    message_id: int = 1,
    chat_id: int = CHAT,
    thread_id: int | None = None,
    user_id: int = USER,
    attachments: tuple[Attachment, ...] = (),
    media_group_id: str | None = None,
    chat_type: str = "private",
) -> UserMessageReceived:
    key = thread_key(chat_id, thread_id)
    return UserMessageReceived(
        **new_envelope(key=key, producer="gateway"),
        message=UserMessage(
            chat_id=chat_id,
            chat_type=chat_type,
            message_thread_id=thread_id,
            message_id=message_id,
            sender=TelegramUser(user_id=user_id, first_name="Ada"),
            sent_at=datetime.now(UTC),
            text=text,
            attachments=attachments,
            media_group_id=media_group_id,
            is_topic_message=thread_id is not None,
        ),
    )


def stop(chat_id: int = CHAT, thread_id: int | None = None, user_id: int = USER) -> StopRequested:
    return StopRequested(
        **new_envelope(key=thread_key(chat_id, thread_id), producer="gateway"), user_id=user_id
    )


def photo(file_id: str = "ph1", size: int = 1000) -> Attachment:
    return Attachment(
        kind="photo", file_id=file_id, file_unique_id=file_id + "u", file_size=size, width=10
    )

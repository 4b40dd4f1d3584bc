"""The records the gateway writes, built from normalized input (pure constructors).

Thread commands (``bot.thread.inbox``, key: thread key) carry ids derived from the Telegram
message they come from (:mod:`.ids`), so a duplicate is idempotent downstream. User commands
(``bot.users.commands``, key: user id) get fresh ids: the users actor decides idempotently
from its state (registering twice is a no-op).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from actors.gateway.ids import telegram_record_id
from actors.gateway.normalize import TopicCreated
from events.envelope import new_envelope
from events.keys import thread_key, user_key
from events.messages import TelegramUser, UserMessage
from events.thread import (
    ForumTopicCreatedReceived,
    NewConversationRequested,
    StopRequested,
    UserMessageEditReceived,
    UserMessageReceived,
)
from events.usage import ModelId
from events.users import (
    LanguageChangeRequested,
    ModelChangeRequested,
    PersonalityChangeRequested,
    RegistrationRequested,
    ThinkingChangeRequested,
)

PRODUCER: Final = "gateway"


def message_thread_key(message: UserMessage) -> str:
    return thread_key(message.chat_id, message.message_thread_id)


def user_message_received(
    message: UserMessage, *, update_id: int | None, received_at: datetime
) -> UserMessageReceived:
    return UserMessageReceived(
        **new_envelope(
            key=message_thread_key(message),
            producer=PRODUCER,
            occurred_at=received_at,
            id=telegram_record_id("message", message.chat_id, message.message_id, message.sent_at),
        ),
        message=message,
        update_id=update_id,
    )


def user_message_edit_received(
    message: UserMessage, *, edited_at: datetime, update_id: int | None, received_at: datetime
) -> UserMessageEditReceived:
    return UserMessageEditReceived(
        **new_envelope(
            key=message_thread_key(message),
            producer=PRODUCER,
            occurred_at=received_at,
            id=telegram_record_id("edit", message.chat_id, message.message_id, edited_at),
        ),
        message=message,
        edited_at=edited_at,
        update_id=update_id,
    )


def stop_requested(
    *,
    chat_id: int,
    message_thread_id: int | None,
    user_id: int,
    message_id: int | None,
    sent_at: datetime,
    received_at: datetime,
) -> StopRequested:
    record_id = (
        telegram_record_id("stop", chat_id, message_id, sent_at) if message_id is not None else None
    )
    return StopRequested(
        **new_envelope(
            key=thread_key(chat_id, message_thread_id),
            producer=PRODUCER,
            occurred_at=received_at,
            id=record_id,
        ),
        user_id=user_id,
        message_id=message_id,
    )


def new_conversation_requested(
    *,
    chat_id: int,
    message_thread_id: int | None,
    user_id: int,
    message_id: int,
    sent_at: datetime,
    received_at: datetime,
) -> NewConversationRequested:
    return NewConversationRequested(
        **new_envelope(
            key=thread_key(chat_id, message_thread_id),
            producer=PRODUCER,
            occurred_at=received_at,
            id=telegram_record_id("new", chat_id, message_id, sent_at),
        ),
        user_id=user_id,
        message_id=message_id,
    )


def forum_topic_created_received(
    topic: TopicCreated, *, received_at: datetime
) -> ForumTopicCreatedReceived:
    return ForumTopicCreatedReceived(
        **new_envelope(
            key=thread_key(topic.chat_id, topic.message_thread_id),
            producer=PRODUCER,
            occurred_at=received_at,
            id=telegram_record_id(
                "topic", topic.chat_id, topic.message_thread_id, topic.created_at
            ),
        ),
        chat_id=topic.chat_id,
        message_thread_id=topic.message_thread_id,
        name=topic.name,
        created_by_user_id=topic.created_by_user_id,
        icon_custom_emoji_id=topic.icon_custom_emoji_id,
    )


def registration_requested(
    profile: TelegramUser, *, chat_id: int | None, received_at: datetime
) -> RegistrationRequested:
    return RegistrationRequested(
        **new_envelope(key=user_key(profile.user_id), producer=PRODUCER, occurred_at=received_at),
        profile=profile,
        chat_id=chat_id,
    )


def model_change_requested(
    *, user_id: int, model: ModelId, received_at: datetime
) -> ModelChangeRequested:
    return ModelChangeRequested(
        **new_envelope(key=user_key(user_id), producer=PRODUCER, occurred_at=received_at),
        user_id=user_id,
        model=model,
    )


def personality_change_requested(
    *, user_id: int, personality: str | None, received_at: datetime
) -> PersonalityChangeRequested:
    return PersonalityChangeRequested(
        **new_envelope(key=user_key(user_id), producer=PRODUCER, occurred_at=received_at),
        user_id=user_id,
        personality=personality,
    )


def thinking_change_requested(
    *, user_id: int, level: str, received_at: datetime
) -> ThinkingChangeRequested:
    return ThinkingChangeRequested(
        **new_envelope(key=user_key(user_id), producer=PRODUCER, occurred_at=received_at),
        user_id=user_id,
        level=level,
    )


def language_change_requested(
    *, user_id: int, language: str, received_at: datetime
) -> LanguageChangeRequested:
    return LanguageChangeRequested(
        **new_envelope(key=user_key(user_id), producer=PRODUCER, occurred_at=received_at),
        user_id=user_id,
        language=language,
    )

"""Who sent a message and where, as the routers need it."""

from __future__ import annotations

from aiogram.types import Message

from actors.gateway.telegram import TgUser


def topic_of(message: Message) -> int | None:
    """The forum topic of ``message`` (None outside a topic)."""
    return message.message_thread_id if message.is_topic_message else None


def sender_profile(message: Message) -> TgUser | None:
    """The person who sent ``message`` (None for a bot or an anonymous sender)."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    return TgUser(
        id=user.id,
        is_bot=user.is_bot,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        is_premium=bool(user.is_premium),
    )

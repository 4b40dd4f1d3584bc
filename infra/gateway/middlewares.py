"""Middlewares that only add context: who, which thread, which request (also for the logs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from events.keys import thread_key
from infra.logs import request_id_var, thread_key_var, user_id_var

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def update_context(update: Update) -> tuple[int | None, str | None]:
    """The user id and thread key an update is about (either may be unknown)."""
    message = update.message or update.edited_message
    if message is not None:
        topic = message.message_thread_id if message.is_topic_message else None
        user = message.from_user.id if message.from_user else None
        return user, thread_key(message.chat.id, topic)
    if update.callback_query is not None:
        query = update.callback_query
        chat_message = query.message
        if chat_message is not None:
            topic = getattr(chat_message, "message_thread_id", None)
            is_topic = getattr(chat_message, "is_topic_message", False)
            return query.from_user.id, thread_key(chat_message.chat.id, topic if is_topic else None)
        return query.from_user.id, None
    if update.stopped_message_generation is not None:
        stopped = update.stopped_message_generation
        return None, thread_key(stopped.chat.id, stopped.message_thread_id)
    if update.pre_checkout_query is not None:
        return update.pre_checkout_query.from_user.id, None
    return None, None


class UpdateContextMiddleware(BaseMiddleware):
    """Outer update middleware: puts ``user_id``, ``thread_key`` and ``request_id`` into the
    handler data and the log context for the time the update is handled."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        user_id, key = update_context(event)
        request_id = f"update-{event.update_id}"
        data["user_id"] = user_id
        data["thread_key"] = key
        data["request_id"] = request_id
        tokens = (
            user_id_var.set(str(user_id) if user_id is not None else None),
            thread_key_var.set(key),
            request_id_var.set(request_id),
        )
        try:
            return await handler(event, data)
        finally:
            user_id_var.reset(tokens[0])
            thread_key_var.reset(tokens[1])
            request_id_var.reset(tokens[2])

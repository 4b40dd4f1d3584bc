"""Bot commands: /start, /help, /stop, /new, /model and /thinking (inline keyboards),
/personality.

Handlers translate and publish; the users actor and the thread actor decide. A reply is sent
once the command is durable, in the background (see ``Replies``).
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageGenerationStopped,
)

from actors.gateway import replies
from actors.gateway.bot_commands import (
    MODEL_CALLBACK_PREFIX,
    THINKING_CALLBACK_PREFIX,
    model_callback_data,
    parse_model_callback,
    parse_model_name,
    parse_personality,
    parse_thinking_callback,
    thinking_callback_data,
)
from actors.gateway.commands import new_conversation_requested, stop_requested
from actors.gateway.normalize import telegram_user
from actors.gateway.telegram import TgUser
from actors.thread.thinking import LEVEL_LABELS, parse_level
from infra.gateway.context import GatewayContext
from infra.gateway.reads import ViewUnavailable, read_view
from infra.gateway.services import GatewayServices
from infra.gateway.user_settings import UserSettings

log = logging.getLogger(__name__)


class Unavailable(Exception):
    """The user's settings cannot be read (no view wired, or the read model failed)."""


COMMANDS = {
    "start": "Start talking to Claude",
    "help": "What I can do",
    "new": "Start a new conversation in this thread",
    "stop": "Stop the answer being written",
    "model": "Choose the model: Claude or Gemini",
    "thinking": "How hard Claude thinks: off, low, medium, high, max",
    "personality": "Set, show or reset your custom system prompt",
}


def _topic(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


def _profile(message: Message) -> TgUser | None:
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


def thinking_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=label, callback_data=thinking_callback_data(level))
                for level, label in LEVEL_LABELS.items()
            ]
        ]
    )


def model_keyboard(current: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=("✓ " if model == current else "") + label,
                    callback_data=model_callback_data(model),
                )
            ]
            for model, label in replies.MODEL_LABELS.items()
        ]
    )


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="commands")
    settings_view = services.user_settings

    async def current_settings(user_id: int) -> UserSettings | None:
        if settings_view is None:
            raise Unavailable
        try:
            return await read_view(
                settings_view.user_settings(user_id),
                what="your settings",
                timeout=ctx.view_timeout,
            )
        except ViewUnavailable as exc:
            log.warning(
                "user settings unavailable",
                extra={"fields": {"error": str(exc)}},
            )
            raise Unavailable from exc

    async def known_user(message: Message) -> TgUser | None:
        profile = _profile(message)
        if profile is not None:
            await services.users.seen(telegram_user(profile), chat_id=message.chat.id)
        return profile

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        profile = _profile(message)
        if profile is None:
            return
        await services.users.register(telegram_user(profile), chat_id=message.chat.id)
        services.replies.send(message.answer(replies.WELCOME), what="welcome")

    @router.message(Command("help"))
    async def help_(message: Message) -> None:
        services.replies.send(message.answer(replies.HELP), what="help")

    @router.message(Command("stop"))
    async def stop(message: Message) -> None:
        profile = await known_user(message)
        if profile is None:
            return
        await services.inbox.command(
            stop_requested(
                chat_id=message.chat.id,
                message_thread_id=_topic(message),
                user_id=profile.id,
                message_id=message.message_id,
                sent_at=message.date,
                received_at=ctx.clock(),
            )
        )

    @router.stopped_message_generation()
    async def stop_button(event: MessageGenerationStopped) -> None:
        await services.inbox.command(
            stop_requested(
                chat_id=event.chat.id,
                message_thread_id=event.message_thread_id,
                user_id=event.chat.id if event.chat.type == "private" else 0,
                message_id=None,
                sent_at=ctx.clock(),
                received_at=ctx.clock(),
            )
        )

    @router.message(Command("new"))
    async def new(message: Message) -> None:
        profile = await known_user(message)
        if profile is None:
            return
        await services.inbox.command(
            new_conversation_requested(
                chat_id=message.chat.id,
                message_thread_id=_topic(message),
                user_id=profile.id,
                message_id=message.message_id,
                sent_at=message.date,
                received_at=ctx.clock(),
            )
        )
        services.replies.send(message.answer(replies.new_conversation()), what="new")

    @router.message(Command("model"))
    async def model(message: Message, command: CommandObject) -> None:
        profile = await known_user(message)
        if profile is None:
            return
        if command.args:
            chosen = parse_model_name(command.args)
            if chosen is None:
                services.replies.send(message.answer(replies.unknown_model()), what="model")
                return
            await services.users.change_model(profile.id, chosen)
            if settings_view is not None:
                settings_view.chose_model(profile.id, chosen)
            services.replies.send(message.answer(replies.model_info(chosen)), what="model")
            return
        try:
            settings = await current_settings(profile.id)
        except Unavailable:
            settings = None  # the keyboard still works, without the ✓
        current = settings.default_model if settings is not None else None
        services.replies.send(
            message.answer(replies.model_prompt(), reply_markup=model_keyboard(current)),
            what="model_keyboard",
        )

    @router.callback_query(F.data.startswith(MODEL_CALLBACK_PREFIX))
    async def model_chosen(query: CallbackQuery) -> None:
        chosen = parse_model_callback(query.data)
        if chosen is None:
            services.replies.send(
                query.answer(replies.unknown_model(), show_alert=True), what="model"
            )
            return
        await services.users.change_model(query.from_user.id, chosen)
        if settings_view is not None:
            settings_view.chose_model(query.from_user.id, chosen)
        services.replies.send(query.answer(replies.model_chosen(chosen)), what="model")
        if query.message is not None and not isinstance(query.message, InaccessibleMessage):
            services.replies.send(
                query.message.edit_text(
                    replies.model_info(chosen), reply_markup=model_keyboard(chosen)
                ),
                what="model_keyboard",
            )

    @router.message(Command("thinking"))
    async def thinking(message: Message, command: CommandObject) -> None:
        profile = await known_user(message)
        if profile is None:
            return
        if not command.args:
            services.replies.send(
                message.answer(replies.thinking_prompt(), reply_markup=thinking_keyboard()),
                what="thinking_keyboard",
            )
            return
        level = parse_level(command.args)
        if level is None:
            services.replies.send(message.answer(replies.unknown_thinking()), what="thinking")
            return
        await services.users.change_thinking(profile.id, level)
        services.replies.send(message.answer(replies.thinking_chosen(level)), what="thinking")

    @router.callback_query(F.data.startswith(THINKING_CALLBACK_PREFIX))
    async def thinking_chosen(query: CallbackQuery) -> None:
        level = parse_thinking_callback(query.data)
        if level is None:
            services.replies.send(
                query.answer(replies.unknown_thinking(), show_alert=True), what="thinking"
            )
            return
        await services.users.change_thinking(query.from_user.id, level)
        services.replies.send(query.answer(replies.thinking_chosen(level)), what="thinking")
        if query.message is not None and not isinstance(query.message, InaccessibleMessage):
            services.replies.send(
                query.message.edit_text(replies.thinking_chosen(level)), what="thinking_keyboard"
            )

    @router.message(Command("personality"))
    async def personality(message: Message, command: CommandObject) -> None:
        profile = await known_user(message)
        if profile is None:
            return
        action = parse_personality(command.args)
        if action.kind == "too_long":
            text = replies.personality_too_long(len(action.text or ""))
        elif action.kind == "set":
            await services.users.change_personality(profile.id, action.text)
            if settings_view is not None:
                settings_view.chose_personality(profile.id, action.text)
            text = replies.personality_set()
        elif action.kind == "reset":
            await services.users.change_personality(profile.id, None)
            if settings_view is not None:
                settings_view.chose_personality(profile.id, None)
            text = replies.personality_reset()
        else:
            try:
                settings = await current_settings(profile.id)
            except Unavailable:
                text = replies.personality_unknown()
            else:
                text = replies.personality_show(settings.personality if settings else None)
        services.replies.send(message.answer(text), what="personality")

    return router

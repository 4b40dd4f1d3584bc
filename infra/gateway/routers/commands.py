"""The user's settings commands: ``/model`` and ``/thinking`` (inline keyboards marking the
current choice) and ``/personality``.

Handlers translate and publish; the users actor decides. A reply is sent once the command is
durable, in the background (see :class:`infra.gateway.replies.Replies`). The current choice
comes from the users read model with this process's own fresh choices shown over it
(:class:`infra.gateway.user_settings.RecentChoices`); when it cannot be read, the keyboards
still work, without the ✓.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import CommandObject
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
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
from actors.gateway.normalize import telegram_user
from actors.gateway.telegram import TgUser
from actors.thread.thinking import LEVEL_LABELS, parse_level
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.reads import ViewUnavailable
from infra.gateway.senders import sender_profile
from infra.gateway.services import GatewayServices
from infra.gateway.user_settings import UserSettings

log = logging.getLogger(__name__)


def _mark(label: str, chosen: bool) -> str:
    return ("✓ " if chosen else "") + label


def thinking_keyboard(current: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_mark(label, level == current), callback_data=thinking_callback_data(level)
                )
                for level, label in LEVEL_LABELS.items()
            ]
        ]
    )


def model_keyboard(current: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_mark(label, model == current), callback_data=model_callback_data(model)
                )
            ]
            for model, label in replies.MODEL_LABELS.items()
        ]
    )


class _Settings:
    """The routers' access to the user: announce them, read their settings."""

    def __init__(self, ctx: GatewayContext, services: GatewayServices) -> None:
        self.ctx = ctx
        self.services = services

    async def known_user(self, message: Message) -> TgUser | None:
        profile = sender_profile(message)
        if profile is not None:
            await self.services.users.seen(telegram_user(profile), chat_id=message.chat.id)
        return profile

    async def current(self, user_id: int) -> UserSettings | None:
        """The user's settings; raises :class:`ViewUnavailable` when they cannot be read."""
        try:
            return await self.services.settings_of(user_id, timeout=self.ctx.view_timeout)
        except ViewUnavailable as exc:
            log.warning("user settings unavailable", extra={"fields": {"error": str(exc)}})
            raise

    async def current_or_none(self, user_id: int) -> UserSettings | None:
        """The user's settings, or None when they cannot be read (a keyboard without ✓)."""
        try:
            return await self.current(user_id)
        except ViewUnavailable:
            return None


def _edit(query: CallbackQuery) -> Message | None:
    """The message under a pressed button, when it can still be edited."""
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        return None
    return message


def add_model_handlers(router: Router, users: _Settings) -> None:
    services = users.services

    async def choose(user_id: int, chosen: str) -> None:
        await services.users.change_model(user_id, chosen)
        if services.user_settings is not None:
            services.user_settings.chose_model(user_id, chosen)

    @router.message(bot_command("model"))
    async def model(message: Message, command: CommandObject) -> None:
        profile = await users.known_user(message)
        if profile is None:
            return
        if command.args:
            chosen = parse_model_name(command.args)
            if chosen is None:
                services.replies.send(message.answer(replies.unknown_model()), what="model")
                return
            await choose(profile.id, chosen)
            services.replies.send(message.answer(replies.model_info(chosen)), what="model")
            return
        settings = await users.current_or_none(profile.id)
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
        await choose(query.from_user.id, chosen)
        services.replies.send(query.answer(replies.model_chosen(chosen)), what="model")
        if (shown := _edit(query)) is not None:
            services.replies.send(
                shown.edit_text(replies.model_info(chosen), reply_markup=model_keyboard(chosen)),
                what="model_keyboard",
            )


def add_thinking_handlers(router: Router, users: _Settings) -> None:
    services = users.services

    async def choose(user_id: int, level: str) -> None:
        await services.users.change_thinking(user_id, level)
        if services.user_settings is not None:
            services.user_settings.chose_thinking(user_id, level)

    @router.message(bot_command("thinking"))
    async def thinking(message: Message, command: CommandObject) -> None:
        profile = await users.known_user(message)
        if profile is None:
            return
        if not command.args:
            settings = await users.current_or_none(profile.id)
            current = (settings.thinking or "off") if settings is not None else None
            services.replies.send(
                message.answer(replies.thinking_prompt(), reply_markup=thinking_keyboard(current)),
                what="thinking_keyboard",
            )
            return
        level = parse_level(command.args)
        if level is None:
            services.replies.send(message.answer(replies.unknown_thinking()), what="thinking")
            return
        await choose(profile.id, level)
        services.replies.send(message.answer(replies.thinking_chosen(level)), what="thinking")

    @router.callback_query(F.data.startswith(THINKING_CALLBACK_PREFIX))
    async def thinking_chosen(query: CallbackQuery) -> None:
        level = parse_thinking_callback(query.data)
        if level is None:
            services.replies.send(
                query.answer(replies.unknown_thinking(), show_alert=True), what="thinking"
            )
            return
        await choose(query.from_user.id, level)
        services.replies.send(query.answer(replies.thinking_chosen(level)), what="thinking")
        if (shown := _edit(query)) is not None:
            services.replies.send(
                shown.edit_text(replies.thinking_chosen(level)), what="thinking_keyboard"
            )


def add_personality_handler(router: Router, users: _Settings) -> None:
    services = users.services

    async def choose(user_id: int, personality: str | None) -> None:
        await services.users.change_personality(user_id, personality)
        if services.user_settings is not None:
            services.user_settings.chose_personality(user_id, personality)

    @router.message(bot_command("personality"))
    async def personality(message: Message, command: CommandObject) -> None:
        profile = await users.known_user(message)
        if profile is None:
            return
        action = parse_personality(command.args)
        if action.kind == "too_long":
            text = replies.personality_too_long(len(action.text or ""))
        elif action.kind in ("set", "reset"):
            await choose(profile.id, action.text if action.kind == "set" else None)
            text = (
                replies.personality_set() if action.kind == "set" else replies.personality_reset()
            )
        else:
            try:
                settings = await users.current(profile.id)
            except ViewUnavailable:
                text = replies.personality_unknown()
            else:
                text = replies.personality_show(settings.personality if settings else None)
        services.replies.send(message.answer(text), what="personality")


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="settings")
    users = _Settings(ctx, services)
    add_model_handlers(router, users)
    add_thinking_handlers(router, users)
    add_personality_handler(router, users)
    return router

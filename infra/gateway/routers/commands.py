"""The user's settings commands: ``/model``, ``/thinking`` and ``/language`` (inline
keyboards marking the current choice) and ``/personality``; each answers in the user's
language (:meth:`infra.gateway.services.GatewayServices.language_of`).

Handlers translate and publish; the users actor decides. A reply is sent once the command is
durable, in the background (see :class:`infra.gateway.replies.Replies`). The current choice
comes from the users read model with this process's own fresh choices shown over it
(:class:`infra.gateway.user_settings.RecentChoices`); when it cannot be read, the keyboards
still work, without the ✓.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import F, Router
from aiogram.filters import CommandObject
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    User,
)

from actors.gateway import replies
from actors.gateway.bot_commands import (
    LANGUAGE_CALLBACK_PREFIX,
    MODEL_CALLBACK_PREFIX,
    THINKING_CALLBACK_PREFIX,
    language_callback_data,
    model_callback_data,
    parse_language_callback,
    parse_language_name,
    parse_model_callback,
    parse_model_name,
    parse_personality,
    parse_thinking_callback,
    thinking_callback_data,
)
from actors.gateway.normalize import telegram_user
from actors.gateway.telegram import TgUser
from actors.texts import LANGUAGES, Language, language_of
from actors.thread.models import offered_models
from actors.thread.thinking import THINKING_LEVELS, parse_level
from events.usage import ModelId
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.reads import ViewUnavailable
from infra.gateway.senders import sender_profile
from infra.gateway.services import GatewayServices
from infra.gateway.user_settings import UserSettings

log = logging.getLogger(__name__)


def _mark(label: str, chosen: bool) -> str:
    return ("✓ " if chosen else "") + label


def thinking_keyboard(language: Language, current: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_mark(replies.thinking_label(language, level), level == current),
                    callback_data=thinking_callback_data(level),
                )
                for level in THINKING_LEVELS
            ]
        ]
    )


def language_keyboard(current: Language | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_mark(replies.language_label(language), language == current),
                    callback_data=language_callback_data(language),
                )
                for language in LANGUAGES
            ]
        ]
    )


def model_keyboard(
    current: str | None = None, offered: tuple[ModelId, ...] = tuple(replies.MODEL_LABELS)
) -> InlineKeyboardMarkup:
    """One button per offered model (Gemini only with a Google API key), the current ✓."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_mark(replies.MODEL_LABELS[model], model == current),
                    callback_data=model_callback_data(model),
                )
            ]
            for model in offered
        ]
    )


def _answer_language(user: User | TgUser, settings: UserSettings | None) -> Language:
    """The language to answer ``user`` in: their choice, else Telegram's."""
    return language_of(user.language_code, settings.language if settings else None)


@dataclass(frozen=True, slots=True)
class _Sender:
    """A settings command's sender: who, their settings (None: none yet, or unreadable) and
    the language to answer in."""

    profile: TgUser
    settings: UserSettings | None
    lang: Language


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

    async def sender(self, message: Message) -> _Sender | None:
        """The message's sender, announced, with their settings (a keyboard without ✓ when
        they cannot be read) and language; None for a message without a sender."""
        profile = await self.known_user(message)
        if profile is None:
            return None
        settings = await self.current_or_none(profile.id)
        return _Sender(profile, settings, _answer_language(profile, settings))

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

    async def language(self, user: User | TgUser) -> Language:
        """The language to answer ``user`` in (their choice, else Telegram's)."""
        return _answer_language(user, await self.current_or_none(user.id))


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
        sender = await users.sender(message)
        if sender is None:
            return
        profile, settings, lang = sender.profile, sender.settings, sender.lang
        if command.args:
            chosen = parse_model_name(command.args)
            if chosen is None:
                services.replies.send(message.answer(replies.unknown_model(lang)), what="model")
                return
            if not users.ctx.offers(chosen):
                text = replies.model_unavailable(lang, chosen)
                services.replies.send(message.answer(text), what="model")
                return
            await choose(profile.id, chosen)
            services.replies.send(message.answer(replies.model_info(lang, chosen)), what="model")
            return
        current = settings.default_model if settings is not None else None
        keyboard = model_keyboard(current, offered_models(users.ctx.chat_providers))
        services.replies.send(
            message.answer(replies.model_prompt(lang), reply_markup=keyboard),
            what="model_keyboard",
        )

    @router.callback_query(F.data.startswith(MODEL_CALLBACK_PREFIX))
    async def model_chosen(query: CallbackQuery) -> None:
        lang = await users.language(query.from_user)
        chosen = parse_model_callback(query.data)
        if chosen is None or not users.ctx.offers(chosen):
            text = replies.unknown_model(lang) if chosen is None else None
            text = text or replies.model_unavailable(lang, chosen or "")
            services.replies.send(query.answer(text, show_alert=True), what="model")
            return
        await choose(query.from_user.id, chosen)
        services.replies.send(query.answer(replies.model_chosen(lang, chosen)), what="model")
        if (shown := _edit(query)) is not None:
            services.replies.send(
                shown.edit_text(
                    replies.model_info(lang, chosen),
                    reply_markup=model_keyboard(chosen, offered_models(users.ctx.chat_providers)),
                ),
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
        sender = await users.sender(message)
        if sender is None:
            return
        profile, settings, lang = sender.profile, sender.settings, sender.lang
        if not command.args:
            current = (settings.thinking or "off") if settings is not None else None
            services.replies.send(
                message.answer(
                    replies.thinking_prompt(lang), reply_markup=thinking_keyboard(lang, current)
                ),
                what="thinking_keyboard",
            )
            return
        level = parse_level(command.args)
        if level is None:
            services.replies.send(message.answer(replies.unknown_thinking(lang)), what="thinking")
            return
        await choose(profile.id, level)
        services.replies.send(message.answer(replies.thinking_chosen(lang, level)), what="thinking")

    @router.callback_query(F.data.startswith(THINKING_CALLBACK_PREFIX))
    async def thinking_chosen(query: CallbackQuery) -> None:
        lang = await users.language(query.from_user)
        level = parse_thinking_callback(query.data)
        if level is None:
            services.replies.send(
                query.answer(replies.unknown_thinking(lang), show_alert=True), what="thinking"
            )
            return
        await choose(query.from_user.id, level)
        services.replies.send(query.answer(replies.thinking_chosen(lang, level)), what="thinking")
        if (shown := _edit(query)) is not None:
            services.replies.send(
                shown.edit_text(replies.thinking_chosen(lang, level)), what="thinking_keyboard"
            )


def add_language_handlers(router: Router, users: _Settings) -> None:
    """``/language`` (a keyboard: English / Русский) and ``/language <en|ru>``: the choice is
    a ``users.language_change_requested`` command; the answer is in the language chosen."""
    services = users.services

    async def choose(user_id: int, language: Language) -> None:
        await services.users.change_language(user_id, language)
        services.chose_language(user_id, language)

    @router.message(bot_command("language"))
    async def language(message: Message, command: CommandObject) -> None:
        sender = await users.sender(message)
        if sender is None:
            return
        profile, settings, lang = sender.profile, sender.settings, sender.lang
        if command.args:
            chosen = parse_language_name(command.args)
            if chosen is None:
                text = replies.unknown_language(lang)
                services.replies.send(message.answer(text), what="language")
                return
            await choose(profile.id, chosen)
            text = replies.language_chosen(chosen)
            services.replies.send(message.answer(text), what="language")
            return
        current = lang if settings is not None else None
        services.replies.send(
            message.answer(replies.language_prompt(lang), reply_markup=language_keyboard(current)),
            what="language_keyboard",
        )

    @router.callback_query(F.data.startswith(LANGUAGE_CALLBACK_PREFIX))
    async def language_chosen(query: CallbackQuery) -> None:
        chosen = parse_language_callback(query.data)
        if chosen is None:
            lang = await users.language(query.from_user)
            services.replies.send(
                query.answer(replies.unknown_language(lang), show_alert=True), what="language"
            )
            return
        await choose(query.from_user.id, chosen)
        services.replies.send(query.answer(replies.language_chosen(chosen)), what="language")
        if (shown := _edit(query)) is not None:
            services.replies.send(
                shown.edit_text(
                    replies.language_chosen(chosen), reply_markup=language_keyboard(chosen)
                ),
                what="language_keyboard",
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
        try:
            settings = await users.current(profile.id)
        except ViewUnavailable:
            settings, readable = None, False
        else:
            readable = True
        lang = _answer_language(profile, settings)
        if action.kind == "too_long":
            text = replies.personality_too_long(lang, len(action.text or ""))
        elif action.kind in ("set", "reset"):
            await choose(profile.id, action.text if action.kind == "set" else None)
            text = (
                replies.personality_set(lang)
                if action.kind == "set"
                else replies.personality_reset(lang)
            )
        elif not readable:
            text = replies.personality_unknown(lang)
        else:
            text = replies.personality_show(lang, settings.personality if settings else None)
        services.replies.send(message.answer(text), what="personality")


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="settings")
    users = _Settings(ctx, services)
    add_model_handlers(router, users)
    add_thinking_handlers(router, users)
    add_language_handlers(router, users)
    add_personality_handler(router, users)
    return router

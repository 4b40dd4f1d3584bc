"""``/start`` and ``/help``, from the command registry.

``/start`` registers the user and greets them: someone new with what the bot does, a
returning user (the users read model has their registration) with their balance and model;
both with the main commands. ``/help`` lists every command the user may use (privileged users
also see the administrator commands).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from aiogram import Router
from aiogram.types import Message

from actors.gateway import command_registry, replies
from actors.gateway.normalize import telegram_user
from actors.gateway.telegram import TgUser
from actors.texts import language_of
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.reads import ViewUnavailable, read_view
from infra.gateway.senders import sender_profile
from infra.gateway.services import GatewayServices

log = logging.getLogger(__name__)


async def greeting(ctx: GatewayContext, services: GatewayServices, profile: TgUser) -> str:
    """The welcome for ``profile``: a returning user's when the read model knows them, in
    their language (chosen with ``/language``, else Telegram's)."""
    language = language_of(profile.language_code)
    try:
        settings = await services.settings_of(profile.id, timeout=ctx.view_timeout)
        if settings is not None:
            language = language_of(profile.language_code, settings.language)
        if settings is None or settings.default_model is None:
            return replies.welcome(language)
        balance: Decimal | None = await read_view(
            ctx.balances.balance(profile.id), what="view.balance", timeout=ctx.view_timeout
        )
    except ViewUnavailable as exc:
        log.info("welcome without the user's settings", extra={"fields": {"error": str(exc)}})
        return replies.welcome(language)
    return replies.welcome_back(language, profile.first_name, balance, settings.default_model)


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="welcome")

    @router.message(bot_command("start"))
    async def start(message: Message) -> None:
        profile = sender_profile(message)
        if profile is None:
            return
        text = await greeting(ctx, services, profile)
        await services.users.register(telegram_user(profile), chat_id=message.chat.id)
        services.replies.send(message.answer(text), what="welcome")

    @router.message(bot_command("help"))
    async def help_(message: Message) -> None:
        user = message.from_user
        privileged = user is not None and ctx.is_privileged(user.id)
        language = await services.language_of(user, timeout=ctx.view_timeout)
        text = command_registry.help_text(language, privileged=privileged)
        services.replies.send(message.answer(text, parse_mode=None), what="help")

    return router

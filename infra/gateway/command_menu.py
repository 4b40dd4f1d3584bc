"""Routers' command filters and the command menu, both from the one registry
(:mod:`actors.gateway.command_registry`).

The menu (``setMyCommands``) is set at every start: the everyone menu as the default scope,
and for each privileged user the menu with the privileged commands in their private chat
(``BotCommandScopeChat``), each once per language: English without a ``language_code``
(what every user whose language has no menu of its own sees), every other language with its
code (Telegram shows it to users whose app is set to that language). A menu Telegram refuses
is logged; the gateway runs without it.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from actors.gateway import command_registry
from actors.texts import DEFAULT_LANGUAGE, LANGUAGES, Language
from infra.gateway.replies import Replies

log = logging.getLogger(__name__)


def bot_command(name: str) -> Command:
    """The filter of the registered command ``name`` (an unregistered name raises)."""
    return Command(command_registry.spec(name).name)


def _commands(language: Language, *, privileged: bool) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=text)
        for name, text in command_registry.menu(language, privileged=privileged)
    ]


def command_menus(privileged: frozenset[int]) -> list[SetMyCommands]:
    """Every ``setMyCommands`` call of a start (see the module docstring)."""
    scopes: list[tuple[BotCommandScopeDefault | BotCommandScopeChat, bool]] = [
        (BotCommandScopeDefault(), False)
    ]
    scopes += [(BotCommandScopeChat(chat_id=uid), True) for uid in sorted(privileged)]
    return [
        SetMyCommands(
            commands=_commands(language, privileged=admin),
            scope=scope,
            language_code=None if language == DEFAULT_LANGUAGE else language,
        )
        for scope, admin in scopes
        for language in LANGUAGES
    ]


async def announce_commands(bot: Bot, replies: Replies, privileged: frozenset[int]) -> None:
    """Set the command menus (see the module docstring)."""
    menus = command_menus(privileged)
    for menu in menus:
        try:
            await replies.deliver(menu.as_(bot))
        except TelegramAPIError as exc:
            log.warning(
                "setMyCommands failed: %s",
                exc,
                extra={"fields": {"scope": str(menu.scope), "language": menu.language_code}},
            )

"""Routers' command filters and the command menu, both from the one registry
(:mod:`actors.gateway.command_registry`).

The menu (``setMyCommands``) is set at every start: the everyone menu as the default scope,
and for each privileged user the menu with the privileged commands in their private chat
(``BotCommandScopeChat``). A menu Telegram refuses is logged; the gateway runs without it.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from actors.gateway import command_registry
from infra.gateway.replies import Replies

log = logging.getLogger(__name__)


def bot_command(name: str) -> Command:
    """The filter of the registered command ``name`` (an unregistered name raises)."""
    return Command(command_registry.spec(name).name)


def _commands(*, privileged: bool) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=text)
        for name, text in command_registry.menu(privileged=privileged)
    ]


async def announce_commands(bot: Bot, replies: Replies, privileged: frozenset[int]) -> None:
    """Set the command menus (see the module docstring)."""
    menus = [SetMyCommands(commands=_commands(privileged=False), scope=BotCommandScopeDefault())]
    menus += [
        SetMyCommands(commands=_commands(privileged=True), scope=BotCommandScopeChat(chat_id=uid))
        for uid in sorted(privileged)
    ]
    for menu in menus:
        try:
            await replies.deliver(menu.as_(bot))
        except TelegramAPIError as exc:
            log.warning(
                "setMyCommands failed: %s", exc, extra={"fields": {"scope": str(menu.scope)}}
            )

"""Every command of the registry is in /help, in the command menu and handled by a router,
against the Telegram emulator through the real gateway."""

from __future__ import annotations

import dataclasses

import pytest
from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BotCommandScopeChat

from actors.gateway import command_registry
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import GatewayFactory, polling
from infra.settings import Settings

USER = 5557201
ADMIN = 5557202


@pytest.fixture
def gateway_settings(gateway_settings: Settings) -> Settings:
    return dataclasses.replace(gateway_settings, privileged_user_ids=frozenset({ADMIN}))


def _handled_commands(router: Router) -> set[str]:
    """The commands every message handler of ``router`` and its sub-routers filters on."""
    names: set[str] = set()
    for handler in router.message.handlers:
        for flt in handler.filters or ():
            if isinstance(flt.callback, Command):
                names.update(str(c) for c in flt.callback.commands)
    for sub in router.sub_routers:
        names |= _handled_commands(sub)
    return names


EVERYONE = {c.name for c in command_registry.visible(privileged=False)}
ALL = {c.name for c in command_registry.COMMANDS}


async def test_every_registered_command_is_in_the_menus_help_and_routers(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, telegram_bot: Bot
) -> None:
    """setMyCommands (at start) lists every command for everyone, and every command with the
    administrator ones in a privileged user's chat; /help lists the same; the routers handle
    exactly the registered commands."""
    assert {"pay", "balance", "refund", "paysupport"} <= EVERYONE
    telegram_emulator.add_private_chat(USER)
    telegram_emulator.add_private_chat(ADMIN)
    async with open_test_gateway() as gateway, polling(gateway):
        assert _handled_commands(gateway.dispatcher) == ALL

        default_menu = await telegram_bot.get_my_commands()
        assert [c.command for c in default_menu] == [
            c.name for c in command_registry.visible(privileged=False)
        ]
        admin_menu = await telegram_bot.get_my_commands(scope=BotCommandScopeChat(chat_id=ADMIN))
        assert {c.command for c in admin_menu} == ALL
        assert all(c.description for c in [*default_menu, *admin_menu])

        for chat in (USER, ADMIN):
            telegram_emulator.send_command(chat, "help")
        await telegram_emulator.wait_until(
            lambda: all(telegram_emulator.bot_messages(c) for c in (USER, ADMIN)), timeout=20
        )
    user_help = telegram_emulator.bot_messages(USER)[-1].text or ""
    admin_help = telegram_emulator.bot_messages(ADMIN)[-1].text or ""
    assert {n for n in ALL if f"/{n} " in user_help} == EVERYONE
    assert {n for n in ALL if f"/{n} " in admin_help} == ALL


def test_a_handler_for_an_unregistered_command_cannot_be_built() -> None:
    """A router asking for a command the registry does not list fails when it is built."""
    from infra.gateway.command_menu import bot_command

    with pytest.raises(command_registry.UnknownCommand):
        bot_command("not_registered")

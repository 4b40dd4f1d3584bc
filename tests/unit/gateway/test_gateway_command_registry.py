"""The command registry: help text, menus and the welcome come from one table."""

from __future__ import annotations

from actors.gateway import command_registry, replies
from actors.gateway.command_registry import COMMANDS, ENGLISH, help_text, menu, visible


def test_help_lists_every_command_the_user_may_use() -> None:
    """/help names every command for everyone (payments included) and the administrator
    commands for privileged users only."""
    public = help_text(privileged=False)
    admin = help_text(privileged=True)
    for command in COMMANDS:
        line = f"/{command.name} "
        assert (line in public) == (command.audience == "everyone"), command.name
        assert line in admin, command.name
    for name in ("pay", "balance", "refund", "paysupport"):
        assert f"/{name}" in public


def test_every_command_has_a_description_within_telegram_limits() -> None:
    """Each menu entry has a 1-256 character description and a valid command name."""
    for privileged in (False, True):
        for name, description in menu(privileged=privileged):
            assert 1 <= len(description) <= 256
            assert name.islower()
            assert len(name) <= 32
    assert {f"command.{c.name}" for c in COMMANDS} <= set(ENGLISH)


def test_a_catalog_without_a_key_falls_back_to_english() -> None:
    """A text catalog of another language may lack keys: English is shown for those."""
    catalog = {"command.help": "Что я умею"}
    entries = dict(menu(privileged=False, texts=catalog))
    assert entries["help"] == "Что я умею"
    assert entries["new"] == ENGLISH["command.new"]


def test_the_welcome_lists_the_main_commands() -> None:
    """/start's welcome (new or returning) lists each main command with its description."""
    mains = [c for c in visible(privileged=False) if c.main]
    assert mains
    for text in (replies.welcome(), replies.welcome_back("Anne", None, None)):
        for command in mains:
            assert f"/{command.name} - {command_registry.describe(command.text_key)}" in text

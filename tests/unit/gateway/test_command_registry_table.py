"""The command registry: help text, menus and the welcome come from one table."""

from __future__ import annotations

import pytest

from actors.gateway import replies
from actors.gateway.command_registry import COMMANDS, help_text, menu, visible
from actors.texts import CATALOGS, LANGUAGES, Language, say


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_lists_every_command_the_user_may_use(language: Language) -> None:
    """/help names every command for everyone (payments included) and the administrator
    commands for privileged users only, in each language."""
    public = help_text(language, privileged=False)
    admin = help_text(language, privileged=True)
    for command in COMMANDS:
        line = f"/{command.name} "
        assert (line in public) == (command.audience == "everyone"), command.name
        assert line in admin, command.name
    for name in ("pay", "balance", "refund", "paysupport", "language"):
        assert f"/{name}" in public


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_command_has_a_description_within_telegram_limits(language: Language) -> None:
    """Each menu entry has a 1-256 character description and a valid command name, and every
    command has its text in every catalog."""
    for privileged in (False, True):
        for name, description in menu(language, privileged=privileged):
            assert 1 <= len(description) <= 256
            assert name.islower()
            assert len(name) <= 32
    assert {f"command.{c.name}" for c in COMMANDS} <= set(CATALOGS[language])


def test_the_menus_differ_by_language() -> None:
    """The Russian menu is not the English one."""
    english = dict(menu("en", privileged=False))
    russian = dict(menu("ru", privileged=False))
    assert english.keys() == russian.keys()
    assert english["help"] != russian["help"]
    assert russian["balance"] == say("ru", "command.balance")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_welcome_lists_the_main_commands(language: Language) -> None:
    """/start's welcome (new or returning) lists each main command with its description."""
    mains = [c for c in visible(privileged=False) if c.main]
    assert mains
    texts = (replies.welcome(language), replies.welcome_back(language, "Anne", None, None))
    for text in texts:
        for command in mains:
            assert f"/{command.name} - {say(language, command.text_key)}" in text

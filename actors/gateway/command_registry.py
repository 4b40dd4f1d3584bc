"""Every bot command, once: the table that ``/help``, the command menu (``setMyCommands``),
the ``/start`` welcome and the gateway's routers are built from.

A router can only handle a command named here (:func:`spec` raises for any other), and the
help text and the menus list every command named here, so a command can never be handled
without being listed again. What a command is called in a language is not in the table: it
names a text key (``command.<name>``) that the per-language catalogs (:mod:`actors.texts`)
resolve; every function here takes the language explicitly. Privileged commands
(``audience="privileged"``) are listed only to privileged users: in their own menu scope
(their private chat) and in their ``/help``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from actors.texts import Language, say

Audience: TypeAlias = Literal["everyone", "privileged"]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    """Without the slash: ``pay``."""
    args: str = ""
    """How its arguments are written in ``/help`` (``<stars>``), or '' for none."""
    audience: Audience = "everyone"
    main: bool = False
    """Listed in the ``/start`` welcome."""

    @property
    def text_key(self) -> str:
        """The catalog key of its one-line description."""
        return f"command.{self.name}"


COMMANDS: Final[tuple[CommandSpec, ...]] = (
    CommandSpec("start"),
    CommandSpec("help", main=True),
    CommandSpec("new", main=True),
    CommandSpec("stop", main=True),
    CommandSpec("clear"),
    CommandSpec("model", "[name]", main=True),
    CommandSpec("thinking", "[off|low|medium|high|max]", main=True),
    CommandSpec("personality", "[text|reset]"),
    CommandSpec("language"),
    CommandSpec("balance", main=True),
    CommandSpec("pay", "[stars]", main=True),
    CommandSpec("refund", "<transaction id>"),
    CommandSpec("paysupport"),
    CommandSpec("topup", "<user id|@username> <amount> [reason]", audience="privileged"),
    CommandSpec("set_margin", "[k3]", audience="privileged"),
    CommandSpec("set_cache_subsidy", "[on|off]", audience="privileged"),
    CommandSpec("announce", "[to:ID,ID,...] <text>", audience="privileged"),
)
"""Every command, in the order menus and ``/help`` list them."""

_BY_NAME: Final = {command.name: command for command in COMMANDS}


class UnknownCommand(KeyError):
    """A command the registry does not list."""


def spec(name: str) -> CommandSpec:
    """The registered command ``name``; :class:`UnknownCommand` for any other."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownCommand(f"/{name} is not in actors.gateway.command_registry") from None


def visible(*, privileged: bool) -> tuple[CommandSpec, ...]:
    """The commands a user sees: privileged ones only for privileged users."""
    return tuple(c for c in COMMANDS if privileged or c.audience == "everyone")


def menu(language: Language, *, privileged: bool) -> list[tuple[str, str]]:
    """(command, description) pairs for ``setMyCommands`` in ``language``."""
    return [(c.name, say(language, c.text_key)) for c in visible(privileged=privileged)]


def _line(command: CommandSpec, language: Language) -> str:
    usage = f"/{command.name} {command.args}".rstrip()
    return f"{usage} - {say(language, command.text_key)}"


def help_text(language: Language, *, privileged: bool) -> str:
    """``/help``: every command the user may use, then what else to know."""
    lines = [say(language, "help.title")]
    lines += [_line(c, language) for c in COMMANDS if c.audience == "everyone"]
    if privileged:
        lines += ["", say(language, "help.admin_title")]
        lines += [_line(c, language) for c in COMMANDS if c.audience == "privileged"]
    return "\n".join([*lines, "", say(language, "help.footer")])


def main_commands(language: Language) -> str:
    """The main commands, one per line (the ``/start`` welcome lists them)."""
    return "\n".join(f"/{c.name} - {say(language, c.text_key)}" for c in COMMANDS if c.main)

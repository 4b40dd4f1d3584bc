"""Every bot command, once: the table that ``/help``, the command menu (``setMyCommands``),
the ``/start`` welcome and the gateway's routers are built from.

A router can only handle a command named here (:func:`spec` raises for any other), and the
help text and the menus list every command named here, so a command can never be handled
without being listed again. What a command is called in a language is not in the table: it
names a text key (``command.<name>``) that a per-language catalog resolves (:data:`ENGLISH`;
:func:`describe` falls back to English for a key a catalog lacks). Privileged commands
(``audience="privileged"``) are listed only to privileged users: in their own menu scope
(their private chat) and in their ``/help``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

Audience: TypeAlias = Literal["everyone", "privileged"]
Catalog: TypeAlias = Mapping[str, str]
"""Texts of one language by key."""


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
    CommandSpec("model", "[name]", main=True),
    CommandSpec("thinking", "[off|low|medium|high|max]", main=True),
    CommandSpec("personality", "[text|reset]"),
    CommandSpec("balance", main=True),
    CommandSpec("pay", "[stars]", main=True),
    CommandSpec("refund", "<transaction id>"),
    CommandSpec("paysupport"),
    CommandSpec("topup", "<user id|@username> <amount> [reason]", audience="privileged"),
    CommandSpec("set_margin", "[k3]", audience="privileged"),
    CommandSpec("announce", "[to:ID,ID,...] <text>", audience="privileged"),
)
"""Every command, in the order menus and ``/help`` list them."""

ENGLISH: Final[Catalog] = {
    "command.start": "Start talking to Claude",
    "command.help": "What I can do",
    "command.new": "Start a new conversation in this thread",
    "command.stop": "Stop the answer being written",
    "command.model": "Choose the model: Claude or Gemini",
    "command.thinking": "How hard Claude thinks: off, low, medium, high, max",
    "command.personality": "Set, show or reset your custom system prompt",
    "command.balance": "Your balance and recent operations",
    "command.pay": "Top up your balance with Telegram Stars",
    "command.refund": "Refund a Stars payment (within 30 days)",
    "command.paysupport": "Help with payments",
    "command.topup": "Credit a user's balance (administrators)",
    "command.set_margin": "Show or set the owner margin k3 (administrators)",
    "command.announce": "Send a message to every user, or to the listed ids, after a "
    "preview (administrators)",
    "help.title": "Commands:",
    "help.admin_title": "Administrator commands:",
    "help.footer": (
        "Sending a new message while I'm answering stops that answer and starts on yours. "
        "I read text, photos, documents (PDF, code, text...), voice, audio and video; "
        "files up to 20 MB."
    ),
}
"""The English texts of the commands (the fallback of every other catalog)."""

_BY_NAME: Final = {command.name: command for command in COMMANDS}


class UnknownCommand(KeyError):
    """A command the registry does not list."""


def spec(name: str) -> CommandSpec:
    """The registered command ``name``; :class:`UnknownCommand` for any other."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownCommand(f"/{name} is not in actors.gateway.command_registry") from None


def describe(key: str, texts: Catalog = ENGLISH) -> str:
    """The text ``key`` in ``texts``, else in English."""
    return texts.get(key) or ENGLISH[key]


def visible(*, privileged: bool) -> tuple[CommandSpec, ...]:
    """The commands a user sees: privileged ones only for privileged users."""
    return tuple(c for c in COMMANDS if privileged or c.audience == "everyone")


def menu(*, privileged: bool, texts: Catalog = ENGLISH) -> list[tuple[str, str]]:
    """(command, description) pairs for ``setMyCommands``."""
    return [(c.name, describe(c.text_key, texts)) for c in visible(privileged=privileged)]


def _line(command: CommandSpec, texts: Catalog) -> str:
    usage = f"/{command.name} {command.args}".rstrip()
    return f"{usage} - {describe(command.text_key, texts)}"


def help_text(*, privileged: bool, texts: Catalog = ENGLISH) -> str:
    """``/help``: every command the user may use, then what else to know."""
    lines = [describe("help.title", texts)]
    lines += [_line(c, texts) for c in COMMANDS if c.audience == "everyone"]
    if privileged:
        lines += ["", describe("help.admin_title", texts)]
        lines += [_line(c, texts) for c in COMMANDS if c.audience == "privileged"]
    return "\n".join([*lines, "", describe("help.footer", texts)])


def main_commands(texts: Catalog = ENGLISH) -> str:
    """The main commands, one per line (the ``/start`` welcome lists them)."""
    return "\n".join(f"/{c.name} - {describe(c.text_key, texts)}" for c in COMMANDS if c.main)

"""The bot under test as separate processes, seen from outside: what a user sends through the
Telegram emulator, what the bot answers there, and what landed on the log under the test's
topic prefix (thread events, users events, ledger debits).

The end-to-end tests' steps (script the model, send, wait for the answer, read the debits)
are one :class:`Scenario` each; the model is scripted on its emulator by the test itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.telegram.state import ChatMessage
from devkit.harness.topics import eventually, read_topic, wait_debits
from events.billing import UsageDebited
from events.catalog import THREAD_EVENTS, USERS_EVENTS
from events.keys import thread_key
from events.thread import TurnCompleted
from infra.kafka.compat import BrokerProfile

T = TypeVar("T")

ANSWER_TIMEOUT = 90.0
"""Seconds a test waits for the bot's answer (turns run through several processes)."""


def _no_logs() -> str:
    return ""


@dataclass
class Scenario:
    """One running bot: the emulator its gateway polls, where its services write
    (``bootstrap``, ``profile``, ``prefix``), and ``logs``: the processes' log tails, for
    assertion messages."""

    telegram: TelegramEmulator
    bootstrap: str
    profile: BrokerProfile
    prefix: str
    logs: Callable[[], str] = _no_logs

    async def answer(
        self, chat_id: int, count: int, timeout: float = ANSWER_TIMEOUT
    ) -> ChatMessage:
        """The bot's ``count``-th message in the chat, once it is there."""
        try:
            await eventually(
                lambda: len(self.telegram.bot_messages(chat_id)) >= count, timeout, interval=0.1
            )
        except TimeoutError:
            raise AssertionError(f"no answer {count} in chat {chat_id}:\n{self.logs()}") from None
        return self.telegram.bot_messages(chat_id)[count - 1]

    async def reply_to(
        self, chat_id: int, send: Callable[[], T], timeout: float = ANSWER_TIMEOUT
    ) -> tuple[T, ChatMessage]:
        """Send (``send()`` injects the update and answers it) and wait for the bot's next
        message in the chat: the update and that message."""
        before = len(self.telegram.bot_messages(chat_id))
        update = send()
        return update, await self.answer(chat_id, before + 1, timeout)

    async def say(self, chat_id: int, text: str, timeout: float = ANSWER_TIMEOUT) -> ChatMessage:
        """The user writes ``text``; the bot's next message."""
        _, reply = await self.reply_to(
            chat_id, lambda: self.telegram.send_text(chat_id, text), timeout
        )
        return reply

    async def command(
        self, chat_id: int, name: str, args: str = "", timeout: float = ANSWER_TIMEOUT
    ) -> ChatMessage:
        """The user sends ``/name args``; the bot's next message."""
        _, reply = await self.reply_to(
            chat_id, lambda: self.telegram.send_command(chat_id, name, args), timeout
        )
        return reply

    async def debits(
        self,
        count: int,
        *,
        user_id: int | None = None,
        thread: str | None = None,
        tools_only: bool = False,
        timeout: float = 60.0,
    ) -> list[UsageDebited]:
        """The usage debits of a user and/or a thread key (only the tools' charges with
        ``tools_only``), once there are ``count``."""
        return await wait_debits(
            self.bootstrap,
            self.profile,
            self.prefix,
            count,
            user_id=user_id,
            thread_key=thread,
            where=(lambda e: e.tool_name is not None) if tools_only else None,
            timeout=timeout,
        )

    async def thread_events(self, chat_id: int, thread_id: int | None = None) -> list[Any]:
        """Every event of the chat's (or forum topic's) thread so far."""
        key = thread_key(chat_id, thread_id)
        found = await read_topic(self.bootstrap, self.profile, THREAD_EVENTS, self.prefix)
        return [e for e in found if e.key == key]

    async def turns(self, chat_id: int, count: int, timeout: float = 180.0) -> list[Any]:
        """The thread's events once ``count`` turns of it completed."""

        async def probe() -> list[Any] | None:
            found = await self.thread_events(chat_id)
            return found if sum(isinstance(e, TurnCompleted) for e in found) >= count else None

        result: list[Any] = await eventually(probe, timeout, interval=0.5)
        return result

    async def users_event(
        self,
        kind: type[T],
        user_id: int,
        where: Callable[[T], bool] = lambda _: True,
        timeout: float = 60.0,
    ) -> T:
        """The first users event of ``kind`` about ``user_id`` (and ``where``), once it is
        recorded."""

        async def found() -> T | None:
            events = await read_topic(self.bootstrap, self.profile, USERS_EVENTS, self.prefix)
            return next(
                (
                    e
                    for e in events
                    if isinstance(e, kind) and getattr(e, "user_id", None) == user_id and where(e)
                ),
                None,
            )

        result: T = await eventually(found, timeout, interval=0.3)
        return result

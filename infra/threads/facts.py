"""What the thread actor reads before it decides: the user's balance, preferences and
language (:class:`FactsReader`), and the actor's own configuration (:class:`ActorConfig`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from actors.texts import Language, language_of
from actors.thread.decide import Facts
from actors.thread.models import DEFAULT_MODEL
from events.catalog import ThreadInboxCommand
from events.thread import NewConversationRequested, SettingsOverrideRequested, StopRequested
from events.usage import ModelId
from infra.views import BalanceReader, PreferencesReader

BALANCE_WAIT: Final = 2.0
QUEUE_WAIT: Final = 300.0
COMMIT_WAIT: Final = 300.0
NOTICED: Final = (StopRequested, NewConversationRequested, SettingsOverrideRequested)
"""Commands answered with a notice (so their user's language is looked up)."""


@dataclass(slots=True)
class ActorConfig:
    topic_prefix: str = ""
    thinking_budget: int | None = None
    balance_wait: float = BALANCE_WAIT
    default_model: ModelId = DEFAULT_MODEL
    queue_wait: float = QUEUE_WAIT
    """How long a request beyond the concurrency limit waits in line for a slot."""
    clock: Callable[[], float] = time.monotonic
    """Seconds, for pacing the balance refusal (:mod:`actors.thread.refusal_throttle`)."""
    commit_wait: float = COMMIT_WAIT
    """How long a commit tries again while the broker is unavailable before it fails
    (:class:`infra.threads.commits.ThreadCommits`)."""


class FactsReader:
    """The facts of a command, from the bounded read ports (balances, preferences)."""

    def __init__(
        self, balances: BalanceReader, preferences: PreferencesReader, config: ActorConfig
    ) -> None:
        self.balances = balances
        self.preferences = preferences
        self.config = config

    async def for_command(self, command: ThreadInboxCommand) -> Facts:
        """Facts of a command other than a message: the language of a command that is
        answered (a stop, a reset, a settings change), read only for those."""
        user_id = getattr(command, "user_id", 0) if isinstance(command, NOTICED) else 0
        return Facts(
            thinking_budget=self.config.thinking_budget,
            default_model=self.config.default_model,
            language=await self.language(user_id, None),
        )

    async def language(self, user_id: int, telegram_code: str | None) -> Language:
        """The language to speak to ``user_id``: their ``/language`` choice (the users log),
        else ``telegram_code`` (a message's sender), else their profile's Telegram one."""
        if not user_id:
            return language_of(telegram_code)
        chosen = await self.preferences.preferences(user_id)
        return language_of(telegram_code or chosen.language_code, chosen.language)

    async def for_message(
        self, user_id: int, telegram_code: str | None, *, other_running: int
    ) -> Facts:
        """Facts of a user's message: balance (waiting briefly for a brand-new user's
        starter credit), model, personality, thinking and language."""
        balance = await self.balances.balance(user_id)
        if balance is None and self.config.balance_wait > 0:
            # a brand-new user's starter credit may be a few milliseconds behind
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.config.balance_wait
            while balance is None and loop.time() < deadline:
                await asyncio.sleep(0.05)
                balance = await self.balances.balance(user_id)
        chosen = await self.preferences.preferences(user_id)
        return Facts(
            user_model=chosen.model,
            user_personality=chosen.personality,
            balance=balance,
            other_running=other_running,
            thinking_budget=self.config.thinking_budget,
            thinking_level=chosen.thinking,
            default_model=self.config.default_model,
            language=language_of(telegram_code or chosen.language_code, chosen.language),
        )

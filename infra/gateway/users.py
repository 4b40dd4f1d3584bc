"""User commands from the gateway: registration on first contact, model, personality,
thinking level and language.

The gateway remembers (bounded) which profiles it has already announced, so a user's first
update in this process asks the users actor to register them, and a changed name or
@username asks it to refresh the profile; the actor decides idempotently, so a repeat after
a restart is harmless.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Final

from actors.gateway.commands import (
    language_change_requested,
    model_change_requested,
    personality_change_requested,
    registration_requested,
    thinking_change_requested,
)
from events.catalog import USERS_COMMANDS, UserCommand
from events.messages import TelegramUser
from events.usage import ModelId
from infra.gateway.durable import DurablePublisher

KNOWN_PROFILES: Final = 100_000


class UserCommands:
    def __init__(
        self,
        publisher: DurablePublisher,
        *,
        clock: Callable[[], datetime],
        capacity: int = KNOWN_PROFILES,
    ) -> None:
        self._publisher = publisher
        self._clock = clock
        self._capacity = capacity
        self._announced: OrderedDict[int, TelegramUser] = OrderedDict()

    async def seen(self, profile: TelegramUser, *, chat_id: int | None) -> None:
        """Make sure the users actor knows this user (and their current profile)."""
        if self._announced.get(profile.user_id) == profile:
            self._announced.move_to_end(profile.user_id)
            return
        await self.register(profile, chat_id=chat_id)

    async def register(self, profile: TelegramUser, *, chat_id: int | None) -> None:
        await self._publish(
            registration_requested(profile, chat_id=chat_id, received_at=self._clock())
        )
        self._announced[profile.user_id] = profile
        self._announced.move_to_end(profile.user_id)
        if len(self._announced) > self._capacity:
            self._announced.popitem(last=False)

    async def change_model(self, user_id: int, model: ModelId) -> None:
        await self._publish(
            model_change_requested(user_id=user_id, model=model, received_at=self._clock())
        )

    async def change_personality(self, user_id: int, personality: str | None) -> None:
        await self._publish(
            personality_change_requested(
                user_id=user_id, personality=personality, received_at=self._clock()
            )
        )

    async def change_thinking(self, user_id: int, level: str) -> None:
        await self._publish(
            thinking_change_requested(user_id=user_id, level=level, received_at=self._clock())
        )

    async def change_language(self, user_id: int, language: str) -> None:
        await self._publish(
            language_change_requested(user_id=user_id, language=language, received_at=self._clock())
        )

    async def _publish(self, record: UserCommand) -> None:
        await self._publisher.publish(USERS_COMMANDS, record)

"""The users' current settings as the gateway shows them (``/model``'s and ``/thinking``'s ✓,
``/personality``, the ``/start`` welcome) and the language it answers in (``/language``).

:class:`UserSettingsView` is the port: the users read model (``users`` table, cached in Redis
by the projector; :class:`infra.projector.views.ReadModelViews` implements it). Nothing is
decided from it, and every gateway replica reads the same shared view.

The read model lags the commands the gateway publishes (the users actor decides, then the
projector projects: typically tens of milliseconds, longer under load). So that a user who
has just chosen a model does not see the old one ticked, :class:`RecentChoices` remembers,
in this process, what a user set here and shows it over the read model until the read
model agrees or :data:`CHOICE_TTL_SECONDS` pass. The users actor accepts every change the
gateway publishes (the model name and the personality length are checked before), so the
remembered value is what the read model will show. A change made meanwhile through another
replica may stay hidden on this one for at most the TTL.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, Protocol

from infra.projector.views import UserSettings

__all__ = ["CHOICE_TTL_SECONDS", "RecentChoices", "UserSettings", "UserSettingsView"]

CHOICE_TTL_SECONDS: Final = 30.0
CHOICES_KEPT: Final = 10_000


class UserSettingsView(Protocol):
    async def user_settings(self, user_id: int) -> UserSettings | None:
        """The user's settings, or None if unknown (not registered yet, or the view lags)."""
        ...


@dataclass(slots=True)
class _Choice:
    value: str | None
    until: float


@dataclass(slots=True)
class _Pending:
    model: _Choice | None = None
    personality: _Choice | None = None
    thinking: _Choice | None = None
    language: _Choice | None = None


class RecentChoices:
    """A :class:`UserSettingsView` over another: the read model, with this process's own
    fresh writes shown until the read model has them (read-your-writes per replica)."""

    def __init__(
        self,
        view: UserSettingsView,
        *,
        ttl: float = CHOICE_TTL_SECONDS,
        capacity: int = CHOICES_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._view = view
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._pending: OrderedDict[int, _Pending] = OrderedDict()

    def chose_model(self, user_id: int, model: str) -> None:
        """The user's model change is durable (published); show it from now on."""
        self._entry(user_id).model = _Choice(model, self._clock() + self._ttl)

    def chose_personality(self, user_id: int, personality: str | None) -> None:
        """The user's personality change (None: reset) is durable; show it from now on."""
        self._entry(user_id).personality = _Choice(personality, self._clock() + self._ttl)

    def chose_thinking(self, user_id: int, level: str) -> None:
        """The user's thinking level change is durable; show it from now on."""
        self._entry(user_id).thinking = _Choice(level, self._clock() + self._ttl)

    def chose_language(self, user_id: int, language: str) -> None:
        """The user's language choice is durable; speak it from now on."""
        self._entry(user_id).language = _Choice(language, self._clock() + self._ttl)

    def _entry(self, user_id: int) -> _Pending:
        entry = self._pending.setdefault(user_id, _Pending())
        self._pending.move_to_end(user_id)
        while len(self._pending) > self._capacity:
            self._pending.popitem(last=False)
        return entry

    async def user_settings(self, user_id: int) -> UserSettings | None:
        stored = await self._view.user_settings(user_id)
        entry = self._pending.get(user_id)
        if entry is None:
            return stored
        now = self._clock()
        settings = stored or UserSettings(user_id=user_id, default_model=None, personality=None)
        entry.model = self._settle(entry.model, settings.default_model, now)
        entry.personality = self._settle(entry.personality, settings.personality, now)
        entry.thinking = self._settle(entry.thinking, settings.thinking, now)
        entry.language = self._settle(entry.language, settings.language, now)
        if (
            entry.model is None
            and entry.personality is None
            and entry.thinking is None
            and entry.language is None
        ):
            del self._pending[user_id]
            return stored
        if entry.model is not None:
            settings = replace(settings, default_model=entry.model.value)
        if entry.personality is not None:
            settings = replace(settings, personality=entry.personality.value)
        if entry.thinking is not None:
            settings = replace(settings, thinking=entry.thinking.value)
        if entry.language is not None:
            settings = replace(settings, language=entry.language.value)
        return settings

    @staticmethod
    def _settle(choice: _Choice | None, stored: str | None, now: float) -> _Choice | None:
        """The choice still to show over ``stored``: None once the read model agrees or the
        choice is older than the TTL."""
        if choice is None or choice.value == stored or now >= choice.until:
            return None
        return choice

    def __len__(self) -> int:
        return len(self._pending)

"""The users' current settings as the gateway sees them (for ``/personality`` and ``/model``).

:class:`UserSettingsView` is the port; :class:`FoldedUserSettings` is an interim adapter that
folds ``bot.users.events`` in memory (every partition, from the start) with the users
actor's own :func:`actors.users.decide.evolve`. It lags the log by a moment, which is fine
for showing settings; nothing is decided from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from aiokafka import AIOKafkaConsumer

from actors.users.decide import UsersState, UserState
from events.catalog import USERS_EVENTS, with_prefix
from events.codec import DecodeError, codec_for

log = logging.getLogger(__name__)


class UserSettingsView(Protocol):
    async def user(self, user_id: int) -> UserState | None:
        """The user's state, or None if unknown (not registered yet, or the view lags)."""
        ...


class FoldedUserSettings:
    def __init__(self, consumer: AIOKafkaConsumer, *, topic_prefix: str = "") -> None:
        self._consumer = consumer
        self._topic = with_prefix(USERS_EVENTS, topic_prefix).name
        self._state = UsersState()
        self._task: asyncio.Task[None] | None = None

    async def user(self, user_id: int) -> UserState | None:
        return self._state.get(user_id) if user_id in self._state else None

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.subscribe([self._topic])
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _run(self) -> None:
        codec = codec_for(USERS_EVENTS)
        while True:
            batches = await self._consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    try:
                        self._state.apply(codec.decode(record.value, record.headers))
                    except DecodeError as exc:
                        log.warning(
                            "undecodable user event skipped",
                            extra={"fields": {"reason": exc.reason, "offset": record.offset}},
                        )

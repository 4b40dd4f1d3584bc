"""Long polling that confirms an update only once its commands are durable.

Telegram forgets the updates below the ``offset`` of the next ``getUpdates`` call. This loop
handles a whole answer (concurrently across chats, see :class:`UpdateIntake`) before asking
again, and asks with the offset of the first update that could not be handled. So a crash
or a broker outage never loses an update: it is delivered again, and the dedupe (in
memory, and downstream by derived ids) drops what was already written. The exception is a
batch part (album item, split paste) waiting in memory for its window, see
:mod:`infra.gateway.inbox`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update

from infra.gateway.intake import UpdateIntake

log = logging.getLogger(__name__)


def next_offset(
    updates: Sequence[Update], handled: Sequence[bool], offset: int | None
) -> int | None:
    """The offset confirming every update before the first one not handled."""
    for update, ok in zip(updates, handled, strict=True):
        if not ok:
            return update.update_id
        offset = update.update_id + 1
    return offset


class Poller:
    def __init__(
        self,
        bot: Bot,
        intake: UpdateIntake,
        *,
        allowed_updates: list[str] | None = None,
        timeout: int = 25,
        limit: int = 100,
        retry_delay: float = 1.0,
    ) -> None:
        self._bot = bot
        self._intake = intake
        self._allowed = allowed_updates
        self._timeout = timeout
        self._limit = limit
        self._retry_delay = retry_delay
        self.offset: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, then confirm what was handled."""
        stopping = asyncio.ensure_future(stop.wait())
        delay = self._retry_delay
        try:
            while not stop.is_set():
                fetch = asyncio.ensure_future(self._fetch(self._timeout))
                await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():
                    fetch.cancel()
                    break
                try:
                    updates = fetch.result()
                except TelegramRetryAfter as exc:
                    await self._pause(stop, float(exc.retry_after))
                    continue
                except (TelegramConflictError, TelegramNetworkError, TelegramServerError) as exc:
                    log.warning("getUpdates failed: %s; retrying in %.1f s", exc, delay)
                    await self._pause(stop, delay)
                    delay = min(delay * 2, 30.0)
                    continue
                delay = self._retry_delay
                if not updates:
                    continue
                handled = await self._intake.feed_many(updates)
                self.offset = next_offset(updates, handled, self.offset)
                if not all(handled):
                    await self._pause(stop, self._retry_delay)
        finally:
            stopping.cancel()
        await self.confirm()

    async def confirm(self) -> None:
        """Tell Telegram that everything before ``offset`` is handled (best effort)."""
        if self.offset is None:
            return
        try:
            await self._bot(GetUpdates(offset=self.offset, limit=1, timeout=0))
        except Exception as exc:
            log.warning("could not confirm the last updates (%s); they will be re-delivered", exc)

    async def _fetch(self, timeout: int) -> list[Update]:
        method = GetUpdates(
            offset=self.offset, limit=self._limit, timeout=timeout, allowed_updates=self._allowed
        )
        return await self._bot(method, request_timeout=timeout + 10)

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

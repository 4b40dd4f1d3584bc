"""Long polling that confirms an update only once its commands are durable, and never makes
one chat wait for another.

Telegram forgets the updates below the ``offset`` of the next ``getUpdates`` call. Each update
of an answer is handled in its own task (see :class:`UpdateIntake`): updates of one chat in
order, a chat's update starting only after the previous one of that chat succeeded; other
chats at once. The loop does not wait for a batch's slowest update: when the updates in
flight are not all done within ``busy_interval`` seconds, it asks again (without
long-polling, since Telegram answers at once with the unconfirmed ones) and starts the
updates it has not seen, and so on while some are in flight (every ``busy_interval``,
backing off to ``max_busy_interval`` while the answers bring only updates that must wait for
their chat's earlier ones). (A batch
that is done sooner costs no extra call: the next ``getUpdates`` long-polls as before.) The offset
it sends moves over the longest run of handled updates only, so a crash or a broker outage
never loses an update: it is delivered again, and the dedupe (in memory, and downstream by
derived ids) drops what was already written. A failed update is started again when it comes
back; the later updates of its chat wait for it. Telegram returns at most ``limit`` updates
from the offset, so an update that takes long holds at most that many others behind it; every
call on a request path has a timeout, so none takes forever. The exception is a batch part
(album item, split paste) waiting in memory for its window, see :mod:`infra.gateway.inbox`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any, Final

from aiogram import Bot
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update

from infra.gateway.intake import UpdateIntake, order_key

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT: Final = 3.0
"""Seconds the confirming ``getUpdates`` of a shutdown may take: a Telegram that does not
answer must not hold the gateway's stop for the Bot API's default request timeout (the
updates are then delivered again after the restart, and the dedupe drops them)."""


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
        busy_interval: float = 0.2,
        max_busy_interval: float = 1.6,
        shutdown_wait: float = 30.0,
        confirm_timeout: float = CONFIRM_TIMEOUT,
    ) -> None:
        self._bot = bot
        self._intake = intake
        self._allowed = allowed_updates
        self._timeout = timeout
        self._limit = limit
        self._retry_delay = retry_delay
        self._busy_interval = busy_interval
        self._max_busy_interval = max_busy_interval
        self._interval = busy_interval
        self._shutdown_wait = shutdown_wait
        self._confirm_timeout = confirm_timeout
        self._pending: dict[int, asyncio.Task[bool]] = {}
        self._last_of_key: dict[str, tuple[int, asyncio.Task[bool]]] = {}
        self.offset: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, then finish what is in flight and confirm it."""
        stopping = asyncio.ensure_future(stop.wait())
        delay = self._retry_delay
        try:
            while not stop.is_set():
                if self._pending:
                    await self._progress(stopping)
                if self._settle():
                    await self._pause(stop, self._retry_delay)
                if stop.is_set():
                    break
                fetch = asyncio.ensure_future(self._fetch(0 if self._pending else self._timeout))
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
                received = asyncio.get_running_loop().time()  # one arrival for the answer
                started_chats = [self._start(update, received) for update in updates]
                self._adapt_interval(any(started_chats))
        finally:
            stopping.cancel()
            await self._finish_in_flight()
        await self.confirm()

    def _adapt_interval(self, started_a_chat: bool) -> None:
        """Ask again sooner while answers bring chats that can start at once; back off
        (up to ``max_busy_interval``) while they bring only updates that must wait for their
        chat's earlier ones, so a backlog is not fetched and parsed over and over."""
        if not self._pending or started_a_chat:
            self._interval = self._busy_interval
        else:
            self._interval = min(self._interval * 2, self._max_busy_interval)

    def _start(self, update: Update, received: float) -> bool:
        """Handle ``update`` (``received`` then) in its own task unless it is in flight (a
        repeat of one already handled is dropped by the intake); True if it starts at once
        (no earlier update of its chat in flight)."""
        uid = update.update_id
        if uid in self._pending:
            return False
        key = order_key(update)
        previous = self._last_of_key.get(key)
        arrivals = self._intake.arrivals
        arrivals.arrived(update, received)  # the task below copies the stamp with the context
        task = asyncio.ensure_future(self._handle(update, previous))
        self._pending[uid] = task
        self._last_of_key[key] = (uid, task)
        task.add_done_callback(lambda _: self._forget(key, task))
        task.add_done_callback(lambda _: arrivals.handled(update))
        return previous is None

    def _forget(self, key: str, task: asyncio.Task[bool]) -> None:
        last = self._last_of_key.get(key)
        if last is not None and last[1] is task:
            del self._last_of_key[key]

    async def _handle(
        self, update: Update, previous: tuple[int, asyncio.Task[bool]] | None
    ) -> bool:
        """Feed ``update`` once the previous update of its chat is done; an earlier update
        of the chat that failed fails this one too (it is retried after it, in order)."""
        if previous is not None:
            previous_id, previous_task = previous
            await asyncio.wait({previous_task})
            failed = previous_task.cancelled() or not previous_task.result()
            if failed and previous_id < update.update_id:
                return False
        return await self._intake.feed(update)

    def _settle(self) -> bool:
        """Move the offset over the finished run of handled updates; True if that run ends
        at a failed update (which is forgotten, so it is handled again when it comes back)."""
        for uid in sorted(self._pending):
            task = self._pending[uid]
            if not task.done():
                return False
            del self._pending[uid]
            if task.cancelled() or not task.result():
                return True
            self.offset = uid + 1
        return False

    async def _progress(self, stopping: asyncio.Future[Any]) -> None:
        """Wait until every update in flight is done (then the next getUpdates may long-poll,
        as when nothing is in flight), ``busy_interval`` passes (then the next one picks up
        other chats' updates without waiting for a slow one), or a stop."""
        all_done = asyncio.ensure_future(asyncio.wait(set(self._pending.values())))
        try:
            await asyncio.wait(
                {all_done, stopping},
                timeout=self._interval,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            all_done.cancel()

    async def _finish_in_flight(self) -> None:
        if not self._pending:
            return
        _, late = await asyncio.wait(set(self._pending.values()), timeout=self._shutdown_wait)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        self._settle()

    async def confirm(self) -> None:
        """Tell Telegram that everything before ``offset`` is handled (best effort, for at
        most ``confirm_timeout`` seconds)."""
        if self.offset is None:
            return
        method = GetUpdates(offset=self.offset, limit=1, timeout=0)
        try:
            async with asyncio.timeout(self._confirm_timeout):
                await self._bot(method, request_timeout=math.ceil(self._confirm_timeout) + 1)
        except TimeoutError:
            log.warning(
                "Telegram did not confirm the last updates within %.1f s; giving up (they will "
                "be re-delivered)",
                self._confirm_timeout,
            )
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

"""Where updates enter the gateway (from polling or the webhook): dedupe, order, dispatch.

* A repeated ``update_id`` is dropped: the last ``capacity`` completed ids are remembered
  (bounded), and an id being handled right now is not handled twice: its repeat waits for
  the first attempt and reports that attempt's outcome (a webhook retry of an update still
  in flight is never answered 200 before the update's commands are durable). A duplicate
  that still slips through (after a restart) writes commands with the same derived ids,
  which consumers treat as duplicates.
* Updates of one chat are handled one after another in arrival order; different chats
  concurrently.
* :meth:`UpdateIntake.feed` returns True once the update's commands are durable (or the
  update was a duplicate), False if they are not: the source must not confirm that update.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from actors.gateway.dedupe import RecentIds
from infra.gateway.keyed_locks import KeyedLocks
from infra.gateway.metrics import UPDATE_SECONDS, UPDATES

log = logging.getLogger(__name__)


def order_key(update: Update) -> str:
    """Updates with the same key are handled in order (a chat, else a user)."""
    message = update.message or update.edited_message
    if message is not None:
        return f"chat:{message.chat.id}"
    if update.stopped_message_generation is not None:
        return f"chat:{update.stopped_message_generation.chat.id}"
    if update.callback_query is not None:
        return f"user:{update.callback_query.from_user.id}"
    if update.pre_checkout_query is not None:
        return f"user:{update.pre_checkout_query.from_user.id}"
    return "other"


class UpdateIntake:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, *, capacity: int = 100_000) -> None:
        self._dp = dispatcher
        self._bot = bot
        self._done = RecentIds(capacity)
        self._in_flight: dict[int, asyncio.Future[bool]] = {}
        self._locks = KeyedLocks()

    async def feed(self, update: Update) -> bool:
        """Handle one update; True when its commands are durable or it was a duplicate
        already handled (a duplicate still in flight waits for the first attempt)."""
        if update.update_id in self._done:
            UPDATES.labels(outcome="duplicate").inc()
            return True
        running = self._in_flight.get(update.update_id)
        if running is not None:
            UPDATES.labels(outcome="duplicate").inc()
            return await asyncio.shield(running)
        outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._in_flight[update.update_id] = outcome
        ok = False
        try:
            ok = await self._handle(update)
        finally:
            del self._in_flight[update.update_id]
            outcome.set_result(ok)
        return ok

    async def _handle(self, update: Update) -> bool:
        started = asyncio.get_running_loop().time()
        try:
            async with self._locks.hold(order_key(update)):
                await self._dp.feed_update(self._bot, update)
        except Exception:
            log.exception("update not handled; it will be delivered again")
            UPDATES.labels(outcome="failed").inc()
            return False
        self._done.add(update.update_id)
        UPDATES.labels(outcome="handled").inc()
        UPDATE_SECONDS.observe(asyncio.get_running_loop().time() - started)
        return True

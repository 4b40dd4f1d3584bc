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
* :class:`Arrivals`: when each update reached the gateway, and which chats still have
  updates to handle. Albums and split pastes are batched by the gaps between their parts'
  arrivals (:mod:`actors.gateway.batching`), which must be the gaps the user and Telegram
  made, not the time the gateway took to work through the parts: the updates of one chat
  are handled one after another, so on a busy gateway the second photo of an album is
  offered well after the first although both came in one ``getUpdates`` answer. The source
  stamps an update when it receives it (one stamp for a whole ``getUpdates`` answer, one
  per webhook request); the stamp travels with its handling in a context variable
  (:func:`received_at`), and its chat counts as busy until the handling ends: a batch of a
  busy chat is not closed by its timer, only by its ``max_hold``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from contextvars import ContextVar

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


_RECEIVED: ContextVar[float | None] = ContextVar("update_received_at", default=None)


def received_at() -> float:
    """When the update being handled arrived (event-loop time; now if it was not stamped)."""
    stamped = _RECEIVED.get()
    return asyncio.get_running_loop().time() if stamped is None else stamped


class Arrivals:
    """The updates received and not handled yet, by chat (see the module doc)."""

    def __init__(self) -> None:
        self._waiting: Counter[str] = Counter()

    def arrived(self, update: Update, at: float) -> None:
        """``update`` arrived at ``at``: its handling (in this context, or a task created
        from it) sees the stamp, and its chat is busy until :meth:`handled`."""
        _RECEIVED.set(at)
        self._waiting[order_key(update)] += 1

    def handled(self, update: Update) -> None:
        key = order_key(update)
        self._waiting[key] -= 1
        if self._waiting[key] <= 0:
            del self._waiting[key]

    def busy(self, chat_id: int) -> bool:
        """Whether an update of this chat arrived and its handling has not ended."""
        return self._waiting.get(f"chat:{chat_id}", 0) > 0


class UpdateIntake:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        capacity: int = 100_000,
        arrivals: Arrivals | None = None,
    ) -> None:
        self._dp = dispatcher
        self._bot = bot
        self.arrivals = arrivals or Arrivals()
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

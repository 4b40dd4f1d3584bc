"""Writing thread commands in order, with split pastes and albums batched into one message.

Every record for a thread goes through :class:`ThreadInbox`, which holds one lock per
thread key: a message, the batch it closes, and a later ``/stop`` for the same thread reach
the log in the order the user sent them. Messages that may be part of a longer input wait
in a :class:`actors.gateway.batching.Batcher` until its window passes; an asyncio timer
closes them. A part is stamped with when its update arrived (:func:`received_at`), and the
timer leaves the batch of a chat whose next update is still being handled (``busy``) to
that update, up to the batch's ``max_hold``: how fast the gateway works never splits an
album (see :class:`infra.gateway.intake.Arrivals`).

Durability: :meth:`message` and :meth:`command` return once the records they write are
acknowledged by the broker (a batch part returns once it is queued in memory); every write
goes through :class:`infra.gateway.durable.DurablePublisher` (a timeout, then
:class:`CommandNotDurable`). A batch
waiting in memory is lost if the process dies within its window (at most ``window`` +
``max_hold`` seconds of one user's album or split paste); a failed write of a closed batch
is retried with backoff until it succeeds or the gateway stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from actors.gateway.batching import Batch, BatchConfig, Batcher, Part
from actors.gateway.commands import message_thread_key, user_message_received
from events.catalog import THREAD_INBOX, ThreadInboxCommand
from events.messages import UserMessage
from infra.gateway.durable import CommandNotDurable, DurablePublisher
from infra.gateway.intake import received_at
from infra.gateway.keyed_locks import KeyedLocks
from infra.gateway.metrics import BATCH_PARTS

__all__ = ["CommandNotDurable", "ThreadInbox"]

log = logging.getLogger(__name__)

BUSY_RECHECK = 0.05
"""Seconds at least between two looks at a due batch whose chat is busy."""


class ThreadInbox:
    def __init__(
        self,
        publisher: DurablePublisher,
        *,
        clock: Callable[[], datetime],
        batch_config: BatchConfig | None = None,
        retry_delay: float = 0.5,
        busy: Callable[[int], bool] | None = None,
    ) -> None:
        self._publisher = publisher
        self._busy = busy or (lambda _chat_id: False)
        self._clock = clock
        self._batcher = Batcher(batch_config)
        self._locks = KeyedLocks()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._retry_delay = retry_delay
        self._closed = False

    @property
    def batch_config(self) -> BatchConfig:
        return self._batcher.config

    @property
    def pending_parts(self) -> int:
        return self._batcher.pending_parts

    # ------------------------------------------------------------------------ writing

    async def message(self, message: UserMessage, *, update_id: int | None) -> None:
        """A user's message: written now, or held as part of a batch (see the module doc)."""
        key = message_thread_key(message)
        async with self._locks.hold(key):
            now = asyncio.get_running_loop().time()
            ready = self._batcher.offer(Part(message, update_id, received_at()), now)
            for batch in ready:
                await self._write_batch(batch)
        self._reschedule()

    async def command(self, record: ThreadInboxCommand) -> None:
        """Any other thread command: what waits in the thread's batches goes first."""
        async with self._locks.hold(record.key):
            for batch in self._batcher.flush_thread(record.key):
                await self._write_batch(batch)
            await self._publish(record)
        self._reschedule()

    async def flush_all(self) -> None:
        """Write every waiting batch now (on shutdown)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for key in self._batcher.open_keys:
            async with self._locks.hold(key[0]):
                for batch in self._batcher.flush_thread(key[0]):
                    await self._write_batch(batch)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------------ internals

    async def _write_batch(self, batch: Batch) -> None:
        BATCH_PARTS.observe(len(batch.parts))
        record = user_message_received(
            batch.merged(), update_id=batch.first.update_id, received_at=self._clock()
        )
        await self._publish(record)

    async def _publish(self, record: ThreadInboxCommand) -> None:
        await self._publisher.publish(THREAD_INBOX, record)

    def _reschedule(self, not_before: float = 0.0) -> None:
        if self._closed:
            return
        deadline = self._batcher.next_deadline()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(max(deadline, not_before), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._flush_due())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_due(self) -> None:
        now = asyncio.get_running_loop().time()
        waiting = False
        try:
            for key in self._batcher.due_keys(now):
                chat = self._batcher.chat_of(key)
                if chat is not None and self._busy(chat) and not self._batcher.held_out(key, now):
                    waiting = True  # its chat's next update decides when it is offered
                    continue
                async with self._locks.hold(key[0]):
                    batch = self._batcher.close_due(key, now)
                    if batch is not None:
                        await self._write_until_durable(batch)
        finally:
            recheck = now + max(self.batch_config.window, BUSY_RECHECK)
            self._reschedule(not_before=recheck if waiting else 0.0)

    async def _write_until_durable(self, batch: Batch) -> None:
        delay = self._retry_delay
        while True:
            try:
                await self._write_batch(batch)
                return
            except CommandNotDurable:
                log.exception(
                    "could not write a batched message; retrying",
                    extra={"fields": {"parts": len(batch.parts), "retry_in": delay}},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

"""Durable commits of a thread (at-least-once input, idempotent output).

A commit evolves the state with the decided events, writes the state *with those records as
an outbox* to the changelog-backed store and waits for the broker's ack, then publishes the
records and waits again; only then is the outbox cleared (lazily, with the next write). A
crash between the state write and the publish leaves the outbox, which the restarted worker
republishes byte for byte (consumers deduplicate by id).

While the broker is unavailable (stopped, electing leaders) the write that failed, the state
write or the publish, is tried again as it was, pausing 0.5 s and doubling to 10 s, for up to
``wait`` seconds; only then does the commit fail. Trying the failed step again, never the
whole commit, keeps a commit whose state write landed from evolving its events twice (a turn
finishing during an outage would otherwise be failed after its answer was recorded, and its
call charged a second time by the failure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from actors.thread.evolve import evolve_all
from actors.thread.state import ThreadState, initial_state
from events.catalog import (
    BILLING_COMMANDS,
    THREAD_EVENTS,
    BillingCommand,
    ThreadEvent,
    TopicSpec,
    with_prefix,
)
from events.codec import codec_for
from infra.threads.broker_errors import transient
from infra.threads.mailbox import Mailbox
from infra.threads.pricing_watch import note_unpriced
from infra.threads.shield import shielded
from infra.threads.store_port import OutboxRecord, RecordSink, StoredThread, ThreadStore

log = logging.getLogger(__name__)

RETRY_FIRST: Final = 0.5
RETRY_MAX: Final = 10.0


class ThreadCommits:
    def __init__(
        self, store: ThreadStore, sink: RecordSink, topic_prefix: str = "", *, wait: float = 0.0
    ) -> None:
        self.store = store
        self.sink = sink
        self.wait = wait
        """How long a failed write is tried again while the broker is unavailable."""
        self._events_topic: TopicSpec[Any] = with_prefix(THREAD_EVENTS, topic_prefix)
        self._billing_topic: TopicSpec[Any] = with_prefix(BILLING_COMMANDS, topic_prefix)

    def load(self, key: str) -> StoredThread:
        return self.store.load(key) or StoredThread(initial_state(key))

    async def commit(
        self,
        mailbox: Mailbox,
        events: Sequence[ThreadEvent],
        charges: Sequence[BillingCommand] = (),
        *,
        processed: Sequence[str] = (),
        publish_later: bool = False,
    ) -> ThreadState:
        """Evolve, store state + outbox durably, publish the outbox durably, clear it.

        With ``publish_later`` the outbox is published by a background task (the state write
        is durable already, so a crash republishes it); the next commit of the thread waits
        for that task first, and every ack comes after a later commit, so a command is still
        acked only once its events are durable. The turn's model call need not wait for it.
        """
        async with mailbox.lock:
            await self._settle_publishing(mailbox)
            stored = self.load(mailbox.key)
            state = evolve_all(stored.state, list(events)).mark_processed(*processed)
            records = [self._record(self._events_topic, e) for e in events]
            records += [self._record(self._billing_topic, c) for c in charges]
            note_unpriced(charges)
            outbox = stored.outbox + tuple(records)
            if not outbox and state == stored.state:
                return state
            await self._until_taken(
                lambda: self.store.save(mailbox.key, mailbox.partition, StoredThread(state, outbox))
            )
            if outbox and publish_later:
                mailbox.publishing = asyncio.create_task(self._publish(mailbox, state, outbox))
            elif outbox:
                await self._until_taken(lambda: self.sink.send_all(outbox))
                self.store.save_local(mailbox.key, StoredThread(state))
            return state

    async def _until_taken(self, write: Callable[[], Awaitable[None]]) -> None:
        """``write()`` (finished even if the caller is cancelled meanwhile), again while the
        broker is unavailable, for up to ``wait`` s; a cancel between tries ends the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        pause = RETRY_FIRST
        while True:
            try:
                await shielded(write())
                return
            except Exception as exc:
                if not transient(exc) or loop.time() + pause > deadline:
                    raise
                log.warning("broker unavailable, write tried again in %.1f s: %r", pause, exc)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX)

    async def replace_state(self, mailbox: Mailbox, state: ThreadState) -> None:
        """Store ``state`` durably in place of the thread's, keeping its outbox."""
        async with mailbox.lock:
            stored = self.load(mailbox.key)
            stored = StoredThread(state, stored.outbox)
            await self.store.save(mailbox.key, mailbox.partition, stored)

    async def publish_billing(self, command: BillingCommand) -> None:
        """A reservation, published now (see :mod:`infra.threads.holds`)."""
        await self.sink.send_all([self._record(self._billing_topic, command)])

    async def _publish(
        self, mailbox: Mailbox, state: ThreadState, outbox: tuple[OutboxRecord, ...]
    ) -> None:
        await self.sink.send_all(outbox)
        current = self.store.load(mailbox.key)
        if current is not None and current.outbox == outbox:
            self.store.save_local(mailbox.key, StoredThread(current.state))

    async def _settle_publishing(self, mailbox: Mailbox) -> None:
        """Wait for a background publish; if it failed, its records stay in the outbox."""
        task, mailbox.publishing = mailbox.publishing, None
        if task is not None:
            try:
                await shielded(task)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox publish failed, will retry with the next commit: %s", exc)

    def _record(self, spec: TopicSpec[Any], record: Any) -> OutboxRecord:
        key, value, headers = codec_for(spec).encode(record)
        return OutboxRecord(spec.name, key, value, headers)

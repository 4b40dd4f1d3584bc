"""The thread worker's durability ports: the changelog-backed store of thread states with
their outboxes, the sink that publishes the outbox records, and the ``Commit`` a turn makes
its events durable with (see :mod:`infra.threads.commits`)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Protocol

import msgspec

from actors.thread.state import ThreadState
from events.catalog import BillingCommand, ThreadEvent


class OutboxRecord(msgspec.Struct, frozen=True):
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class StoredThread(msgspec.Struct, frozen=True):
    state: ThreadState
    outbox: tuple[OutboxRecord, ...] = ()


class ThreadStore(Protocol):
    """The changelog-backed table of thread states (or an in-memory fake)."""

    def load(self, key: str) -> StoredThread | None: ...

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        """Store and wait until the write is durable."""
        ...

    def save_local(self, key: str, stored: StoredThread) -> None:
        """Store in memory only (made durable by the next :meth:`save`)."""
        ...


class RecordSink(Protocol):
    async def send_all(self, records: Sequence[OutboxRecord]) -> None:
        """Produce the records (in order per topic and key) and wait for every ack."""
        ...


class Commit(Protocol):
    """Make events (and their charges) durable; returns the thread's state after them.

    With ``publish_later`` only the state write (which holds them as the outbox) is waited
    for; the records are published in the background and the thread's next commit waits for
    that first (see ``ThreadCommits.commit``)."""

    def __call__(
        self,
        events: Sequence[ThreadEvent],
        charges: Sequence[BillingCommand],
        /,
        *,
        publish_later: bool = False,
    ) -> Awaitable[ThreadState]: ...

"""An own consumer loop for a group whose records finish out of order (the thread inbox).

One aiokafka consumer in the service's event loop, subscribed to one topic as a member of
the group, hands each record to ``handle`` with its *ack*, and goes on to the next record at
once; the handler acks when what the record caused is durable. Commits follow the
contiguous-commit rule (:class:`~infra.kafka.contiguous_acks.ContiguousAcks`): per
partition only up to the first delivered and unacked offset, so a record in flight is
redelivered after a crash or a rebalance whatever finished after it.

* **Assignment**: ``hooks.assigned(partitions)`` runs (the service restores what it keeps
  per partition) before any record of the new assignment is handed out; readiness
  (:func:`~infra.kafka.assignment_readiness.track_assignment`) is met only after it. If it
  fails the loop raises (aiokafka would log it and go on with nothing restored).
* **Revocation**: ``hooks.revoked(partitions)`` stops the work of those partitions (their
  unacked records are left for the next owner), then what is acked is committed and the
  bookkeeping forgotten. An ack from before a revocation no longer counts (generation).
* **Commits** of the points that moved, every ``commit_interval`` seconds from the loop,
  on revocation and on stop; a failed commit (mid-rebalance) is retried with the next one.
* **Back-pressure**: with ``max_in_flight`` records unacked the loop waits before fetching.

Why not Faust's agent (which the thread worker used before): its consumer runs aiokafka in a
separate thread and hands records to the agent per fetch and per message through queues;
with a busy event loop that hand-off added 100-170 ms at p99 (bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from infra.kafka.assignment_readiness import track_assignment
from infra.kafka.contiguous_acks import ContiguousAcks
from infra.service_health import Readiness

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Ack: TypeAlias = Callable[[], None]
Handler: TypeAlias = Callable[[Record, Ack], Awaitable[None]]

COMMIT_INTERVAL: Final = 1.0
MAX_IN_FLIGHT: Final = 8192
POLL_TIMEOUT_MS: Final = 200


class PartitionHooks(Protocol):
    """What the service does when partitions of the topic come and go."""

    async def assigned(self, partitions: set[int]) -> None: ...

    async def revoked(self, partitions: set[int]) -> None: ...


class AckedConsumer:
    """The loop (see the module docstring); ``consumer`` is a started group member that has
    not subscribed yet."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topic: str,
        hooks: PartitionHooks,
        handle: Handler,
        *,
        readiness: Readiness | None = None,
        service: str = "consumer",
        commit_interval: float = COMMIT_INTERVAL,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.consumer = consumer
        self.topic = topic
        self.hooks = hooks
        self.handle = handle
        self.acks: ContiguousAcks[TopicPartition] = ContiguousAcks()
        self.committed: dict[TopicPartition, int] = {}
        self.owned: set[TopicPartition] = set()
        self.commit_interval = commit_interval
        self.max_in_flight = max_in_flight
        self._generation = 0
        self._settled = asyncio.Event()  # set while an assignment is handled and current
        self._room = asyncio.Event()
        self._last_commit = time.monotonic()
        self.failed: Exception | None = None
        """Why handling an assignment failed (the loop raises it: restart the service)."""
        listener = _Listener(self)
        self.listener: ConsumerRebalanceListener = track_assignment(listener, readiness, service)

    def subscribe(self) -> None:
        self.consumer.subscribe([self.topic], listener=self.listener)

    async def run(self, stop: asyncio.Event) -> None:
        """Subscribe and hand out records until ``stop`` is set; commit what is acked."""
        self.subscribe()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                await self.poll_once(stopping)
        finally:
            stopping.cancel()
            with contextlib.suppress(KafkaError, asyncio.CancelledError):
                await self.commit()

    async def poll_once(self, stopping: asyncio.Future[Any] | None = None) -> int:
        """One round: wait for room and a handled assignment, fetch, hand out, commit when
        due. The number of records handed out."""
        if self.acks.total_in_flight() >= self.max_in_flight:
            self._room.clear()
            await _first(self._room.wait(), stopping, timeout=self.commit_interval)
        handed = 0
        if not self._settled.is_set():  # no fetch: records must wait for the restore
            await _first(self._settled.wait(), stopping, timeout=self.commit_interval)
        elif self.failed is not None:
            raise RuntimeError(f"the assignment of {self.topic} failed") from self.failed
        else:
            generation = self._generation
            got = await self.consumer.getmany(timeout_ms=POLL_TIMEOUT_MS)
            if generation != self._generation or not self._settled.is_set():
                self._rewind(got)
                got = {}
            for tp, records in got.items():
                for record in records:
                    # a rebalance while a record was handled (a dead-letter send): these
                    # are the old assignment's, whose positions the new one reset
                    if generation != self._generation or tp not in self.owned:
                        break
                    await self.handle(record, self.deliver(tp, record.offset))
                    handed += 1
        if time.monotonic() - self._last_commit >= self.commit_interval:
            await self.commit()
        return handed

    def _rewind(self, got: dict[TopicPartition, list[Record]]) -> None:
        """A rebalance ran while ``getmany`` waited: what it answered is the *new*
        assignment's (aiokafka activates an assignment, sets its positions and fetches
        before our listener has restored it), and taking them moved the positions past
        them. Not handed out now (the restore comes first), they are fetched again: their
        partitions go back to the first of them. Dropping them lost them: the next records
        were handed out and acked, and the commit went past (the chaos run of 2026-12-02,
        a first message of four users never handled)."""
        assigned = self.consumer.assignment()
        for tp, records in got.items():
            if records and tp in assigned:
                self.consumer.seek(tp, records[0].offset)

    def deliver(self, tp: TopicPartition, offset: int) -> Ack:
        """Record ``offset`` of ``tp`` as handed out; its ack."""
        self.acks.delivered(tp, offset)
        generation = self._generation

        def ack() -> None:
            counted = generation == self._generation and self.acks.acked(tp, offset)
            if counted and self.acks.total_in_flight() < self.max_in_flight:
                self._room.set()

        return ack

    async def commit(self, partitions: set[TopicPartition] | None = None) -> None:
        """Commit the contiguous-acked offsets that moved (of ``partitions``, default all
        owned); a failure is logged and the points stay due."""
        self._last_commit = time.monotonic()
        scope = self.owned if partitions is None else partitions
        due = {tp: o for tp, o in self.acks.due(self.committed).items() if tp in scope}
        if not due:
            return
        try:
            await self.consumer.commit(due)
        except KafkaError as exc:
            log.warning("inbox commit failed, retried with the next one: %r", exc)
            return
        self.committed.update(due)

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self._settled.clear()
        mine = {tp for tp in revoked if tp.topic == self.topic}
        if mine:
            await self.hooks.revoked({tp.partition for tp in mine})
            await self.commit(mine)
        self._generation += 1
        self.acks.forget(mine)
        for tp in mine:
            self.committed.pop(tp, None)
        self.owned -= mine

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        mine = {tp for tp in assigned if tp.topic == self.topic}
        try:
            await self.hooks.assigned({tp.partition for tp in mine})
        except Exception as exc:  # aiokafka would only log it: the loop fails instead
            self.failed = exc
            raise
        finally:
            self._settled.set()
        self.owned = mine


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: AckedConsumer) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._loop._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._loop._on_assigned(set(assigned))


async def _first(
    awaitable: Awaitable[object], stopping: asyncio.Future[Any] | None, *, timeout: float
) -> None:
    """Wait for ``awaitable``, at most ``timeout`` s, and not past ``stopping``."""
    waiter: asyncio.Future[Any] = asyncio.ensure_future(awaitable)
    waits: set[asyncio.Future[Any]] = {waiter}
    if stopping is not None:
        waits.add(stopping)
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()

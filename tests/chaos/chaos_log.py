"""The thread log and the ledger as the verifier reads them: read once, then only what is new.

Reading both topics from offset zero for every check made the verifier's cost grow with
every run (the thousandth run re-read the records of the 999 before it, once a second while
it waited to settle). A :class:`LogTail` keeps its decoded, deduplicated records and where
each partition was left, and a :meth:`LogTail.refresh` reads from there to the end offsets
of now (:func:`infra.kafka.read_to_end.read_to_end`), so a check after a refresh sees every
record written before it, as a read from zero would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from events.catalog import ADMIN_EVENTS, BILLING_LEDGER, BROADCAST_EVENTS, THREAD_EVENTS, TopicSpec
from events.codec import DecodeError, codec_for
from infra.kafka.clients import make_consumer, refresh_partitions
from infra.kafka.compat import BrokerProfile
from infra.kafka.read_to_end import read_to_end

REFRESH_TIMEOUT = 60.0
"""A refresh that reaches no end within this long gives up (the broker went away)."""

T = TypeVar("T")


class ReadCancelled(KafkaError):
    """A read of the log ended by a cancel nobody asked for (see :func:`isolated`)."""


async def isolated(work: Awaitable[T], timeout: float) -> T:
    """``work`` in a task of its own, given up after ``timeout`` (``TimeoutError``).

    aiokafka bounds its requests with ``async_timeout``, which cancels the task it runs in;
    when the request ends in the same moment, the cancel is left pending and lands at the
    task's next ``await``, long after. In a lane of the chaos run that ended the whole run
    (run B, 2026-12-02: a broker outage, then a ``CancelledError`` out of the verifier).
    Here such a cancel lands in the read's own task and comes out as :class:`ReadCancelled`,
    a broker error like the others; a cancel of the caller still cancels the read."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.wait({task})  # unwound before the caller goes on (closes the consumer)
        raise
    if not done:
        task.cancel()
        await asyncio.wait({task})  # a cancel of the caller meanwhile still propagates
        raise TimeoutError(f"no answer within {timeout:g} s")
    if task.cancelled():
        raise ReadCancelled("the read was cancelled by the Kafka client's own timeout")
    return task.result()


class TopicTail:
    """One topic's records, decoded and deduplicated by id (first occurrence kept);
    undecodable ones (the dead-letter test's) are the consumers' to park, not ours."""

    def __init__(self, bootstrap: str, profile: BrokerProfile, spec: TopicSpec[Any]) -> None:
        self.bootstrap = bootstrap
        self.profile = profile
        self.spec = spec
        self.codec = codec_for(spec)
        self.records: list[Any] = []
        self.seen: set[str] = set()
        self.positions: dict[TopicPartition, int] = {}
        self.consumer: AIOKafkaConsumer | None = None

    async def refresh(self, timeout: float = REFRESH_TIMEOUT) -> list[Any]:
        """Read what was appended since the last refresh; answers every record so far. On a
        broker error, or no end reached within ``timeout`` (a broker gone mid-read), the
        consumer is dropped (made again next time) and the error raised."""
        try:
            await isolated(self._read(), timeout)
        except BaseException:
            await asyncio.shield(self.close())
            raise
        return self.records

    async def _read(self) -> None:
        consumer = await self._consumer()
        tps = [TopicPartition(self.spec.name, p) for p in sorted(await self._partitions())]
        ends = await consumer.end_offsets(tps)
        starts = {tp: self.positions.get(tp, 0) for tp in tps}
        read = await read_to_end(consumer, tps, starts=starts, ends=ends)
        async for _tp, batch in read.batches(timeout_ms=500):
            for raw in batch:
                self._add(raw)
        self.positions.update(read.positions)

    def _add(self, raw: Any) -> None:
        try:
            event = self.codec.decode(raw.value, raw.headers)
        except DecodeError:
            return
        if event.id not in self.seen:
            self.seen.add(event.id)
            self.records.append(event)

    async def _consumer(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            consumer = make_consumer(self.bootstrap, self.profile, (), group_id=None)
            await consumer.start()
            self.consumer = consumer
        return self.consumer

    async def _partitions(self) -> set[int]:
        assert self.consumer is not None
        found = await refresh_partitions(self.consumer, self.spec.name, 30.0)
        if not found:
            raise TimeoutError(f"no partitions known for {self.spec.name}")
        return found

    async def close(self) -> None:
        consumer, self.consumer = self.consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await isolated(consumer.stop(), REFRESH_TIMEOUT)


class LogTails:
    """The thread events and the ledger, and the admin and broadcast topics, each a
    :class:`TopicTail` (one refresh at a time: the lanes share them)."""

    def __init__(self, bootstrap: str, profile: BrokerProfile) -> None:
        self.events = TopicTail(bootstrap, profile, THREAD_EVENTS)
        self.ledger = TopicTail(bootstrap, profile, BILLING_LEDGER)
        self.admin = TopicTail(bootstrap, profile, ADMIN_EVENTS)
        self.broadcasts = TopicTail(bootstrap, profile, BROADCAST_EVENTS)
        self.lock = asyncio.Lock()

    async def refresh(self) -> tuple[list[Any], list[Any]]:
        async with self.lock:
            return await self.events.refresh(), await self.ledger.refresh()

    async def refresh_broadcasts(self) -> tuple[list[Any], list[Any]]:
        """The admin records and the broadcast records so far."""
        async with self.lock:
            return await self.admin.refresh(), await self.broadcasts.refresh()

    async def close(self) -> None:
        for tail in (self.events, self.ledger, self.admin, self.broadcasts):
            await tail.close()

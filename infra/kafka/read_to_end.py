"""Reading partitions to their end offsets: THE way this project folds a topic.

Every fold of a log (the users worker's state, the billing worker's ledger and snapshots,
the billing views, the thread worker's log views, the read-model rebuild, ``botctl topics
tail`` and ``botctl dlq``) reads through :func:`read_to_end`, and a reader that goes on
afterwards through :func:`follow`. The reading itself is the caller's: batches of raw
records come back as fetched, so decoding and folding stay in the caller's tight loop.

What every caller gets:

* **Partitions are read together**, in one fetch stream, not one after another: each
  sequential read costs at least one fetch round trip, and a fetch for a partition with
  nothing in it waits ``fetch_max_wait_ms`` before the broker answers (about 1 s on Apache
  Kafka with the billing worker's settings; commit f87a419 measured a 12-partition fold
  outlasting the consumer's 10 s session).
* **Empty partitions are never fetched**: a partition whose start is at its end offset is
  not assigned at all. End offsets are asked for every partition at once (one ListOffsets
  request).
* **Records stop at the end offset read at the start** (or the caller's own stop offset),
  so records appended meanwhile are not returned; :attr:`PartitionRead.positions` then says
  where each partition was left, for a caller that catches up again later or follows.

The consumer must be group-less (``group_id=None``): the read assigns partitions itself and
never commits.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Final, TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

FETCH_RECORDS: Final = 20_000
"""Most records one ``getmany`` hands back (per call, over every partition)."""
FETCH_TIMEOUT_MS: Final = 1000
"""How long one ``getmany`` waits for records before the end check runs again."""

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Batch: TypeAlias = tuple[TopicPartition, list[Record]]


class PartitionRead:
    """One pass over partitions, each from its start offset up to (not including) its end.

    Built by :func:`read_to_end`; iterate :meth:`batches`. A partition whose end is None has
    no end: the pass then stops once no record came for ``idle_ms`` (only then).
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        starts: Mapping[TopicPartition, int],
        ends: Mapping[TopicPartition, int | None],
    ) -> None:
        self.consumer = consumer
        self.ends: dict[TopicPartition, int | None] = dict(ends)
        self.positions: dict[TopicPartition, int] = dict(starts)
        """Per partition, the offset after the last record handed out (the start before
        any): where a later read or :func:`follow` picks up."""
        self.remaining: set[TopicPartition] = {
            tp for tp, end in self.ends.items() if end is None or self.positions[tp] < end
        }

    def stop(self, tp: TopicPartition) -> None:
        """Read no more of ``tp`` (the caller has what it wants from it, e.g. an ``until``
        time was passed). Its records already fetched in this round are not handed out."""
        self.remaining.discard(tp)

    async def batches(
        self,
        *,
        max_records: int = FETCH_RECORDS,
        timeout_ms: int = FETCH_TIMEOUT_MS,
        idle_ms: int | None = None,
    ) -> AsyncIterator[Batch]:
        """Each partition's records as fetched (in offset order within a partition), until
        every partition is at its end or stopped, or (``idle_ms``) nothing came for that long."""
        consumer = self.consumer
        remaining = self.remaining
        last_record = time.monotonic()
        while remaining:
            got = await consumer.getmany(*remaining, timeout_ms=timeout_ms, max_records=max_records)
            if got:
                last_record = time.monotonic()
            elif idle_ms is not None and (time.monotonic() - last_record) * 1000 >= idle_ms:
                return
            for tp, records in got.items():
                if tp not in remaining or not records:
                    continue
                end = self.ends[tp]
                if end is not None and records[-1].offset >= end:
                    records = records[: _first_at(records, end)]
                    remaining.discard(tp)
                    self.positions[tp] = end
                    if records:
                        yield tp, records
                    continue
                self.positions[tp] = records[-1].offset + 1
                yield tp, records
            for tp in list(remaining):
                end = self.ends[tp]
                if end is not None:
                    position = await consumer.position(tp)
                    if position >= end:  # also past gaps (compaction, transaction markers)
                        self.positions[tp] = max(self.positions[tp], end)
                        remaining.discard(tp)


def _first_at(records: list[Record], offset: int) -> int:
    """Index of the first record at or after ``offset`` (records are in offset order)."""
    lo, hi = 0, len(records)
    while lo < hi:
        mid = (lo + hi) // 2
        if records[mid].offset < offset:
            lo = mid + 1
        else:
            hi = mid
    return lo


async def read_to_end(
    consumer: AIOKafkaConsumer,
    partitions: Iterable[TopicPartition],
    *,
    starts: Mapping[TopicPartition, int] | None = None,
    ends: Mapping[TopicPartition, int | None] | None = None,
) -> PartitionRead:
    """Prepare one pass over ``partitions``: from ``starts`` (default: each partition's
    first offset; a partition whose end offset is 0 is then empty) to ``ends`` (default: the
    end offsets now, in one request; a None end: no end, see :meth:`PartitionRead.batches`).
    Assigns ``consumer`` the partitions that have something to read, and only those, at
    their start offsets."""
    tps = list(dict.fromkeys(partitions))
    if not tps:
        return PartitionRead(consumer, {}, {})
    if ends is None:
        ends = dict(await consumer.end_offsets(tps))
    begin = {tp: 0 for tp in tps} if starts is None else {tp: starts.get(tp, 0) for tp in tps}
    read = PartitionRead(consumer, begin, {tp: ends.get(tp, 0) for tp in tps})
    if read.remaining:
        wanted = [tp for tp in tps if tp in read.remaining]
        consumer.assign(wanted)
        if starts is None:  # the broker's first offset (no extra round trip: the fetch asks)
            await consumer.seek_to_beginning(*wanted)
        else:
            for tp in wanted:
                consumer.seek(tp, begin[tp])
    return read


async def follow(
    consumer: AIOKafkaConsumer,
    positions: Mapping[TopicPartition, int],
    *,
    max_records: int = FETCH_RECORDS,
    timeout_ms: int = FETCH_TIMEOUT_MS,
) -> AsyncIterator[Batch]:
    """Every record of ``positions``' partitions from those offsets on, as fetched, without
    end (typically after a :func:`read_to_end` pass, from its positions)."""
    tps = list(positions)
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, positions[tp])
    while True:
        got = await consumer.getmany(*tps, timeout_ms=timeout_ms, max_records=max_records)
        for tp, records in got.items():
            if records:
                yield tp, records

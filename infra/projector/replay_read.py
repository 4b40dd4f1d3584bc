"""The reading half of a rebuild: every input partition to its end, folded into row operations.

Partitions are read with :func:`infra.kafka.read_to_end.read_to_end` (together, empty ones
not at all). Each record is decoded once and handed to every projection that reads its
topic; their row operations go to the loader's fold (:mod:`infra.projector.replay_load`).
A record that cannot be decoded, or that the live projector dead-lettered, is skipped, as
live; a record whose row mapping raises is recorded as a dead letter, as live.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition

from events.catalog import TopicSpec
from events.codec import Codec, DecodeError, codec_for
from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile
from infra.kafka.read_to_end import Record, read_to_end
from infra.projector.dead_letters import REASON_MAPPING, DeadLetter, SkipKey, error_detail
from infra.projector.positions import PositionKey
from infra.projector.replay_load import Loader
from projections.catalog import Projection, input_topics
from projections.rows import RowOp
from projections.safe_text import may_need_scrub, safe_ops
from projections.source import Source

FETCH_RECORDS: Final = 20_000
ProgressFn = Callable[[int, int, float], None]
Positions = dict[PositionKey, tuple[int, datetime | None]]


class ReplayError(Exception):
    """A rebuild could not be done as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Route:
    """How records of one (prefixed) topic are read: its catalog entry, its codec, and the
    projections that read it."""

    spec: TopicSpec[Any]
    codec: Codec[Any]
    projections: tuple[Projection, ...]


@dataclass(slots=True)
class ReadPlan:
    """What a rebuild reads and where it stops (``until``, ``stop_at``), what it skips
    (``skip``) and what it found on the way (``found`` dead letters, ``positions``)."""

    until: datetime | None
    stop_at: dict[PositionKey, int] | None
    skip: set[SkipKey]
    found: dict[SkipKey, DeadLetter]
    positions: Positions = field(default_factory=dict)


async def read_projections(
    endpoints: Endpoints,
    profile: BrokerProfile,
    projections: tuple[Projection, ...],
    loader: Loader,
    plan: ReadPlan,
    *,
    topic_prefix: str,
    idle_ms: int | None,
    progress: ProgressFn | None,
    started: float,
) -> Positions:
    """Read every input partition of ``projections`` into ``loader``; answers the
    positions reached per projection, topic and partition (with the time of the record
    before each)."""
    consumer = make_consumer(
        endpoints.kafka_bootstrap,
        profile,
        [],
        group_id=None,
        max_poll_records=FETCH_RECORDS,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        routes = await _routes(consumer, projections, topic_prefix)
        tps = [tp for name in routes for tp in _partitions(consumer, name)]
        ends = await consumer.end_offsets(tps)
        limits = _limits(tps, routes, ends, plan.stop_at, idle_ms)
        for tp in tps:
            for p in routes[tp.topic].projections:
                plan.positions[(p.name, tp.topic, tp.partition)] = (0, None)
        total = sum(v for v in limits.values() if v is not None) or sum(ends.values())
        done = 0
        read = await read_to_end(consumer, tps, starts=dict.fromkeys(tps, 0), ends=limits)
        batches = read.batches(max_records=FETCH_RECORDS, timeout_ms=200, idle_ms=idle_ms)
        async for tp, records in batches:
            folded, passed_until = _fold_batch(tp, records, routes[tp.topic], loader, plan)
            done += folded
            if passed_until:
                read.stop(tp)
            if loader.full():
                await loader.flush_append_only()
            if progress is not None:
                progress(done, total, time.monotonic() - started)
        if progress is not None:
            progress(done, done, time.monotonic() - started)
        return plan.positions
    finally:
        await consumer.stop()


async def _routes(
    consumer: AIOKafkaConsumer, projections: tuple[Projection, ...], topic_prefix: str
) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for spec in input_topics(projections):
        name = topic_prefix + spec.name
        if not consumer.partitions_for_topic(name):
            await consumer.topics()
        if not consumer.partitions_for_topic(name):
            raise ReplayError(f"topic {name} does not exist")
        readers = tuple(p for p in projections if spec in p.topics)
        routes[name] = Route(spec, codec_for(spec), readers)
    return routes


def _partitions(consumer: AIOKafkaConsumer, name: str) -> list[TopicPartition]:
    return [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name))]


def _limits(
    tps: list[TopicPartition],
    routes: Mapping[str, Route],
    ends: Mapping[TopicPartition, int],
    stop_at: dict[PositionKey, int] | None,
    idle_ms: int | None,
) -> dict[TopicPartition, int | None]:
    """Where each partition's read stops: the furthest ``stop_at`` of the projections
    reading it, no end (``idle_ms``: until the log is idle), or the end offset now."""
    limits: dict[TopicPartition, int | None] = {}
    for tp in tps:
        if stop_at is not None:
            limits[tp] = max(
                (
                    stop_at.get((p.name, tp.topic, tp.partition), 0)
                    for p in routes[tp.topic].projections
                ),
                default=0,
            )
        elif idle_ms is not None:
            limits[tp] = None
        else:
            limits[tp] = ends[tp]
    return limits


def _fold_batch(
    tp: TopicPartition, records: list[Record], route: Route, loader: Loader, plan: ReadPlan
) -> tuple[int, bool]:
    """Fold one partition's batch; answers how many records were read and whether the
    partition passed ``until`` (its read is then over)."""
    decode = route.codec.decode
    topic = route.spec.name
    apply = loader.apply
    until, stop_at, skip, found, positions = (
        plan.until,
        plan.stop_at,
        plan.skip,
        plan.found,
        plan.positions,
    )
    # (handlers, position key, stop offset) of each projection reading tp
    readers = [
        (
            p.handlers,
            key := (p.name, tp.topic, tp.partition),
            None if stop_at is None else stop_at.get(key, 0),
        )
        for p in route.projections
    ]
    done = 0
    for rec in records:
        offset = rec.offset
        try:
            record = decode(rec.value)
        except DecodeError:
            record = None  # dead-lettered by the live projector; skipped here
        at = None if record is None else record.occurred_at
        if at is not None and until is not None and at > until:
            return done, True
        src = Source(topic, rec.partition, offset)
        scrub = may_need_scrub(rec.value)
        for handlers, key, stop in readers:
            if stop is not None and offset >= stop:
                continue
            handler = None if record is None else handlers.get(type(record))
            if handler is not None and (not skip or (*key, offset) not in skip):
                try:
                    ops: list[RowOp] = handler(record, src)
                except Exception as exc:  # as the live projector: dead-lettered
                    found[(*key, offset)] = _mapping_failed(key, offset, record, exc)
                else:
                    apply(safe_ops(ops) if scrub else ops)
            positions[key] = (offset + 1, at)
        done += 1
    return done, False


def _mapping_failed(key: PositionKey, offset: int, record: Any, exc: Exception) -> DeadLetter:
    return DeadLetter(
        projection=key[0],
        topic=key[1],
        partition=key[2],
        offset=offset,
        record_type=type(record).__name__,
        record_id=str(getattr(record, "id", "")) or None,
        reason=REASON_MAPPING,
        detail=error_detail(exc),
    )

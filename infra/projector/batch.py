"""One projector batch: prepared (decoded, mapped to row operations, positions to check and
advance, dead letters), then written in one transaction with its positions; when PostgreSQL
refuses the batch, written again record by record, the records it still refuses parked in
their topic's ``.dlq`` and ``projection_dead_letters`` (see :mod:`infra.projector.runner`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer, ConsumerRecord

from events.catalog import TopicSpec
from events.codec import Codec, DecodeError
from infra.kafka.dead_letter import send_to_dead_letter
from infra.projector.dead_letters import (
    REASON_APPLY,
    REASON_MAPPING,
    UNAPPLIABLE,
    DeadLetter,
    error_detail,
    save_dead_letters,
)
from infra.projector.metrics import DEAD_LETTERS
from infra.projector.positions import PositionKey, lock_and_check, save_positions
from infra.projector.sql import write_changes
from projections.catalog import Projection
from projections.changes import Changes
from projections.rows import RowOp, Table
from projections.safe_text import may_need_scrub
from projections.source import Source

log = logging.getLogger("infra.projector.runner")


@dataclass(slots=True)
class InputTopic:
    """An input topic (prefixed name) and the projections reading it."""

    spec: TopicSpec[Any]
    name: str
    codec: Codec[Any]
    projections: tuple[Projection, ...]


@dataclass(slots=True)
class Item:
    """A decoded record of a batch and the row operations of each projection reading it."""

    rec: ConsumerRecord[bytes, bytes]
    record: Any
    writes: list[tuple[Projection, list[RowOp]]] = field(default_factory=list)


@dataclass(slots=True)
class Parked:
    """A record one projection cannot apply, with its dead-letter row."""

    rec: ConsumerRecord[bytes, bytes]
    letter: DeadLetter


def parked(
    projection: str, rec: ConsumerRecord[bytes, bytes], record: Any, reason: str, exc: Exception
) -> Parked:
    letter = DeadLetter(
        projection=projection,
        topic=rec.topic,
        partition=rec.partition,
        offset=rec.offset,
        record_type=type(record).__name__,
        record_id=str(getattr(record, "id", "")) or None,
        reason=reason,
        detail=error_detail(exc),
    )
    return Parked(rec, letter)


@dataclass(slots=True)
class Batch:
    """A batch ready to write: records, expected and new positions, dead letters."""

    items: list[Item] = field(default_factory=list)
    expected: dict[PositionKey, int] = field(default_factory=dict)
    advanced: dict[PositionKey, tuple[int, datetime | None]] = field(default_factory=dict)
    dead: list[Parked] = field(default_factory=list)
    applied: int = 0
    newest: datetime | None = None


async def prepare(
    records: Sequence[ConsumerRecord[bytes, bytes]],
    topics: Mapping[str, InputTopic],
    positions: Mapping[PositionKey, int],
    producer: AIOKafkaProducer,
) -> Batch:
    """Decode and map a batch's records (those some projection has not applied yet, by
    ``positions``); undecodable ones are dead-lettered here."""
    batch = Batch()
    for rec in records:
        topic = topics[rec.topic]
        keys = [(p.name, rec.topic, rec.partition) for p in topic.projections]
        pending = [
            (p, k)
            for p, k in zip(topic.projections, keys, strict=True)
            if rec.offset >= positions.get(k, 0)
        ]
        if not pending:
            continue  # every projection here has it already
        try:
            record = topic.codec.decode(rec.value, rec.headers)
        except DecodeError as exc:
            await send_to_dead_letter(producer, rec, exc.reason, exc.detail)
            for _, key in pending:
                batch.expected.setdefault(key, positions.get(key, 0))
                batch.advanced[key] = (rec.offset + 1, batch.advanced.get(key, (0, None))[1])
            continue
        src = Source(topic.spec.name, rec.partition, rec.offset)
        scrub = may_need_scrub(rec.value)
        occurred_at = record.occurred_at
        item = Item(rec, record)
        for projection, key in pending:
            batch.expected.setdefault(key, positions.get(key, 0))
            batch.advanced[key] = (rec.offset + 1, occurred_at)
            try:
                ops = projection.ops(record, src, scrub=scrub)
            except Exception as exc:  # a mapping bug must not halt every projection
                batch.dead.append(parked(projection.name, rec, record, REASON_MAPPING, exc))
                continue
            item.writes.append((projection, ops))
        batch.items.append(item)
        batch.applied += 1
        if batch.newest is None or occurred_at > batch.newest:
            batch.newest = occurred_at
    return batch


class BatchWriter:
    """Writes prepared batches: all in one transaction, or record by record when
    PostgreSQL refuses the batch; parks what it cannot apply."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        schema: str,
        tables: list[Table],
        *,
        crash_after: int = 0,
    ) -> None:
        self.pool = pool
        self.producer = producer
        self._schema = schema
        self.tables = tables
        self._crash_after = crash_after

    async def write(self, batch: Batch, applied_before: int) -> Changes:
        """The batch's merged row operations and its positions, in one transaction."""
        changes = Changes(self.tables)
        for item in batch.items:
            for _projection, ops in item.writes:
                changes.apply_all(ops)
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_and_check(conn, self._schema, batch.expected)
            await write_changes(conn, self._schema, changes)
            if self._crash_after and applied_before + batch.applied >= self._crash_after:
                log.warning(
                    "test hook: exiting before commit", extra={"fields": {"at": batch.applied}}
                )
                os._exit(99)
            await self._park(conn, batch.dead)
            await save_positions(conn, self._schema, batch.advanced)
        return changes

    async def one_by_one(self, batch: Batch) -> Changes:
        """Write each record's rows in its own savepoint; dead-letter the records refused.

        Only errors that belong to the data (:data:`UNAPPLIABLE`) are refusals; any other
        error fails the batch, which is retried. A fault that refuses every record (a mapping
        bug, a column altered by hand) therefore dead-letters them all, loudly (an error log
        each, ``claudegram_projection_dead_letters``, ``botctl verify``) rather than halting
        every projection; after the fix, ``botctl replay --retry-dead-letters --swap``
        rebuilds them from the log.
        """
        changes = Changes(self.tables)
        dead = list(batch.dead)
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_and_check(conn, self._schema, batch.expected)
            for item in batch.items:
                for projection, ops in item.writes:
                    one = Changes(projection.tables)
                    one.apply_all(ops)
                    try:
                        async with conn.transaction():
                            await write_changes(conn, self._schema, one)
                    except UNAPPLIABLE as exc:
                        dead.append(
                            parked(projection.name, item.rec, item.record, REASON_APPLY, exc)
                        )
                        continue
                    changes.apply_all(ops)
            await self._park(conn, dead)
            await save_positions(conn, self._schema, batch.advanced)
        return changes

    async def _park(self, conn: asyncpg.Connection, dead: list[Parked]) -> None:
        """Dead-letter ``dead``: the ``.dlq`` copy of each record first (acknowledged), then
        the rows, in the caller's transaction (a retried batch may copy a record twice)."""
        if not dead:
            return
        by_record: dict[int, list[Parked]] = {}
        for parked in dead:
            by_record.setdefault(id(parked.rec), []).append(parked)
        for group in by_record.values():
            letter = group[0].letter
            names = ",".join(sorted(p.letter.projection for p in group))
            await send_to_dead_letter(
                self.producer, group[0].rec, letter.reason, f"projection {names}: {letter.detail}"
            )
            for parked in group:
                DEAD_LETTERS.labels(
                    projection=parked.letter.projection, reason=parked.letter.reason
                ).inc()
                log.error(
                    "projector dead-lettered a record it cannot apply",
                    extra={"fields": {"record": parked.letter.describe()}},
                )
        await save_dead_letters(conn, self._schema, [p.letter for p in dead])

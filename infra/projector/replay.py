"""Rebuilding read models from offset zero into a fresh schema, in bulk, then swapping it in.

The rebuild reads every partition of the projections' input topics from offset 0 with a
plain consumer, decodes each record once, folds the row operations in memory
(:class:`projections.changes.Changes`, the same semantics as the live upserts) and loads
the result with ``COPY``: append-only rows in chunks while reading (duplicate ids in the log
are skipped), mutable rows once at the end. Positions are written in the same schema, so a
live projector can tail from there.

``until`` cuts each partition at its first record that occurred after that time (prefix
semantics: the state of the log as of ``until``, and a valid position to tail from).

``swap`` moves the rebuilt tables into the target schema in ONE transaction (drop the old
table, ``ALTER TABLE ... SET SCHEMA``, replace the projection's positions), so readers see the
old tables or the new ones, never a mix; a running live projector notices the new positions
at its next batch and re-seeks.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
from aiokafka import TopicPartition

from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.migrations import migrate
from infra.postgres import connect as pg_connect
from infra.postgres import quote_schema
from infra.projector.bulk import TableIndexes, defer_indexes, in_parallel, restore_indexes
from infra.projector.dead_letters import (
    REASON_MAPPING,
    DeadLetter,
    SkipKey,
    error_detail,
    load_dead_letters,
    save_dead_letters,
)
from infra.projector.positions import PositionKey
from projections.catalog import Projection, input_topics, select
from projections.fold import RowFold
from projections.rows import Table
from projections.safe_text import may_need_scrub, safe_ops
from projections.source import Source

COPY_CHUNK: Final = 50_000
LOADERS: Final = 3
"""Connections loading the mutable tables and building indexes at the end, in parallel."""
ProgressFn = Callable[[int, int, float], None]


class ReplayError(Exception):
    """A rebuild could not be done as asked; the message says why."""


@dataclass(slots=True)
class ReplayResult:
    """What a rebuild produced."""

    schema: str
    projections: list[str]
    records: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    positions: dict[PositionKey, int] = field(default_factory=dict)
    swapped_into: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: ``read`` (fetch, decode, fold, overlapped COPY of append-only
    rows), ``load`` (COPY of the mutable tables), ``index`` (keys and indexes built after
    the load), ``finish`` (positions, ANALYZE)."""
    dead_letters: list[DeadLetter] = field(default_factory=list)
    """The records skipped: dead-lettered by the live projector, or unmappable."""

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def stderr_progress() -> ProgressFn:
    """A one-line progress bar on stderr, redrawn at most 10 times a second."""
    last = [0.0]

    def show(done: int, total: int, elapsed: float) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1 and done < total:
            return
        last[0] = now
        width = 30
        frac = min(1.0, done / total) if total else 1.0
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        rate = done / elapsed if elapsed > 0 else 0.0
        sys.stderr.write(f"\rreplay [{bar}] {done:,}/{total:,} records {rate:,.0f}/s ")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


class _Loader:
    """Folds row operations into whole rows; streams append-only rows to COPY in chunks
    while reading goes on (the COPY runs in PostgreSQL's process, on the other core)."""

    def __init__(self, conn: asyncpg.Connection, schema: str, tables: Iterable[Table]) -> None:
        self.conn = conn
        self.schema = schema
        self.tables = list(tables)
        self.fold = RowFold(self.tables)
        self.apply = self.fold.apply
        self.rows: dict[str, int] = {t.name: 0 for t in self.tables}
        self._copying: asyncio.Task[None] | None = None

    def full(self) -> bool:
        return self.fold.pending() >= COPY_CHUNK

    async def flush_append_only(self) -> None:
        """Start copying the pending append-only rows (after the previous copy is done)."""
        batches = [(a.table, a.take()) for a in self.fold.append_only.values() if a.pending]
        await self._wait()
        if batches:
            self._copying = asyncio.create_task(self._copy_all(batches))

    async def _wait(self) -> None:
        if self._copying is not None:
            copying, self._copying = self._copying, None
            await copying

    async def _copy_all(self, batches: list[tuple[Table, list[tuple[Any, ...]]]]) -> None:
        for table, rows in batches:
            await self._copy(table, rows)

    async def finish(self, connections: list[asyncpg.Connection]) -> None:
        """Copy the rest: pending append-only rows, then every mutable table, the tables
        spread over ``connections`` (largest first)."""
        await self.flush_append_only()
        await self._wait()
        mutable = sorted(
            (t for t in self.tables if not t.append_only),
            key=lambda t: -len(self.fold.mutable[t.name].rows),
        )

        def job(table: Table) -> Callable[[asyncpg.Connection], Awaitable[None]]:
            async def copy(conn: asyncpg.Connection) -> None:
                rows = self.fold.rows(table.name)
                if rows:
                    await self._copy(table, rows, conn)

            return copy

        await in_parallel(connections, [job(t) for t in mutable])

    async def abort(self) -> None:
        if self._copying is not None:
            self._copying.cancel()
            with contextlib.suppress(BaseException):
                await self._copying

    async def _copy(
        self, table: Table, rows: list[tuple[Any, ...]], conn: asyncpg.Connection | None = None
    ) -> None:
        await (conn or self.conn).copy_records_to_table(
            table.name, records=rows, columns=list(table.columns), schema_name=self.schema
        )
        self.rows[table.name] += len(rows)


async def _fresh_schema(conn: asyncpg.Connection, schema: str, protected: set[str]) -> None:
    if schema in protected:
        raise ReplayError(f"refusing to rebuild into {schema!r}: it is a live schema")
    await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(schema)} CASCADE")
    await migrate(conn, schema)


async def rebuild(
    endpoints: Endpoints,
    *,
    projections: tuple[Projection, ...],
    schema: str,
    topic_prefix: str = "",
    until: datetime | None = None,
    stop_at: dict[PositionKey, int] | None = None,
    idle_ms: int | None = None,
    progress: ProgressFn | None = None,
    profile: BrokerProfile | None = None,
    protected: set[str] | None = None,
    dead_letters: list[DeadLetter] | None = None,
) -> ReplayResult:
    """Rebuild ``projections`` into the fresh schema ``schema`` (dropped first if it exists).

    Reads each partition up to its end offset at the start (or, with ``stop_at``, up to the
    given position per projection; or, with ``idle_ms``, until no record came for that long).
    Skips the records in ``dead_letters`` (those the live projector dead-lettered) and, like
    the live projector, a record whose row mapping raises; both are listed in the new
    schema's ``projection_dead_letters``.
    """
    started = time.monotonic()
    profile = profile or await probe_broker(endpoints.kafka_bootstrap)
    conn = await pg_connect(endpoints.database_url, bulk=True)
    helpers: list[asyncpg.Connection] = []
    try:
        await _fresh_schema(conn, schema, protected or {"public"})
        tables = [t for p in projections for t in p.tables]
        deferred = await defer_indexes(conn, schema, [t.name for t in tables])
        loader = _Loader(conn, schema, tables)
        found: dict[SkipKey, DeadLetter] = {}
        phases: dict[str, float] = {}
        with _gc_paused():
            try:
                positions = await _consume(
                    endpoints,
                    profile,
                    projections,
                    loader,
                    topic_prefix=topic_prefix,
                    until=until,
                    stop_at=stop_at,
                    idle_ms=idle_ms,
                    progress=progress,
                    started=started,
                    skip={d.key for d in dead_letters or ()},
                    found=found,
                )
                phases["read"] = time.monotonic() - started
                helpers = list(
                    await asyncio.gather(
                        *(pg_connect(endpoints.database_url, bulk=True) for _ in range(LOADERS - 1))
                    )
                )
                connections = [conn, *helpers]
                await loader.finish(connections)
            except BaseException:
                await loader.abort()
                raise
        phases["load"] = time.monotonic() - started - phases["read"]
        await in_parallel(
            connections,
            [
                _restore_job(schema, deferred[t.name])
                for t in sorted(tables, key=lambda t: -loader.rows[t.name])
            ],
        )
        phases["index"] = time.monotonic() - started - phases["read"] - phases["load"]
        await conn.executemany(
            f"INSERT INTO {quote_schema(schema)}.projection_positions "
            "(projection, topic, partition, next_offset, last_event_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            [(p, t, part, off, at) for (p, t, part), (off, at) in positions.items()],
        )
        for letter in dead_letters or ():
            reached = positions.get((letter.projection, letter.topic, letter.partition))
            if reached is not None and letter.offset < reached[0]:
                found.setdefault(letter.key, letter)
        await save_dead_letters(conn, schema, found.values())
        await in_parallel(
            connections,
            [_analyze_job(f"{quote_schema(schema)}.{t.name}") for t in tables],
        )
        phases["finish"] = time.monotonic() - started - sum(phases.values())
        return ReplayResult(
            schema=schema,
            projections=[p.name for p in projections],
            records=loader_records(positions),
            seconds=time.monotonic() - started,
            rows=dict(loader.rows),
            positions={k: v[0] for k, v in positions.items()},
            phases=phases,
            dead_letters=sorted(found.values(), key=lambda d: d.key),
        )
    finally:
        for helper in helpers:
            await helper.close()
        await conn.close()


def _restore_job(
    schema: str, found: TableIndexes
) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def restore(conn: asyncpg.Connection) -> None:
        await restore_indexes(conn, schema, found)

    return restore


def _analyze_job(qualified: str) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def analyze(conn: asyncpg.Connection) -> None:
        await conn.execute(f"ANALYZE {qualified}")

    return analyze


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while folding: a rebuild holds millions of acyclic
    rows, and every full collection would walk them all (it cost a third of the run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


def loader_records(positions: dict[PositionKey, tuple[int, datetime | None]]) -> int:
    """Records read: the highest position of each topic partition, summed."""
    per_tp: dict[tuple[str, int], int] = {}
    for (_, topic, partition), (offset, _at) in positions.items():
        per_tp[(topic, partition)] = max(per_tp.get((topic, partition), 0), offset)
    return sum(per_tp.values())


async def _consume(
    endpoints: Endpoints,
    profile: BrokerProfile,
    projections: tuple[Projection, ...],
    loader: _Loader,
    *,
    topic_prefix: str,
    until: datetime | None,
    stop_at: dict[PositionKey, int] | None,
    idle_ms: int | None,
    progress: ProgressFn | None,
    started: float,
    skip: set[SkipKey],
    found: dict[SkipKey, DeadLetter],
) -> dict[PositionKey, tuple[int, datetime | None]]:
    from events.codec import DecodeError, codec_for

    consumer = make_consumer(
        endpoints.kafka_bootstrap,
        profile,
        [],
        group_id=None,
        max_poll_records=20_000,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        specs = input_topics(projections)
        tps: list[TopicPartition] = []
        routes: dict[str, tuple[Any, Any, tuple[Projection, ...]]] = {}
        for spec in specs:
            name = topic_prefix + spec.name
            parts = consumer.partitions_for_topic(name)
            if not parts:
                await consumer.topics()
                parts = consumer.partitions_for_topic(name)
            if not parts:
                raise ReplayError(f"topic {name} does not exist")
            tps += [TopicPartition(name, p) for p in sorted(parts)]
            routes[name] = (
                spec,
                codec_for(spec),
                tuple(p for p in projections if spec in p.topics),
            )
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        ends = await consumer.end_offsets(tps)
        limits: dict[TopicPartition, int | None] = {}
        for tp in tps:
            if stop_at is not None:
                _, _, subscribed = routes[tp.topic]
                limits[tp] = max(
                    (stop_at.get((p.name, tp.topic, tp.partition), 0) for p in subscribed),
                    default=0,
                )
            elif idle_ms is not None:
                limits[tp] = None
            else:
                limits[tp] = ends[tp]
        positions: dict[PositionKey, tuple[int, datetime | None]] = {}
        for tp in tps:
            for p in routes[tp.topic][2]:
                positions[(p.name, tp.topic, tp.partition)] = (0, None)
        active = {tp for tp in tps if limits[tp] is None or limits[tp] > 0}  # type: ignore[operator]
        total = sum(v for v in limits.values() if v is not None) or sum(ends.values())
        done = 0
        apply = loader.apply
        last_record = time.monotonic()
        while active:
            got = await consumer.getmany(*active, timeout_ms=200, max_records=20_000)
            if not got:
                if idle_ms is not None and (time.monotonic() - last_record) * 1000 >= idle_ms:
                    break
                continue
            last_record = time.monotonic()
            for tp, records in got.items():
                spec, codec, subscribed = routes[tp.topic]
                decode = codec.decode
                topic = spec.name
                limit = limits[tp]
                # (handlers, position key, stop offset) of each projection reading tp
                readers = [
                    (
                        p.handlers,
                        (p.name, tp.topic, tp.partition),
                        None
                        if stop_at is None
                        else stop_at.get((p.name, tp.topic, tp.partition), 0),
                    )
                    for p in subscribed
                ]
                for rec in records:
                    offset = rec.offset
                    if limit is not None and offset >= limit:
                        active.discard(tp)
                        break
                    try:
                        record = decode(rec.value)
                    except DecodeError:
                        record = None  # dead-lettered by the live projector; skipped here
                    at = None if record is None else record.occurred_at
                    if at is not None and until is not None and at > until:
                        active.discard(tp)
                        break
                    src = Source(topic, rec.partition, offset)
                    scrub = may_need_scrub(rec.value)
                    for handlers, key, stop in readers:
                        if stop is not None and offset >= stop:
                            continue
                        handler = None if record is None else handlers.get(type(record))
                        if handler is not None and (
                            not skip or (*key, offset) not in skip  # dead-lettered live
                        ):
                            try:
                                ops = handler(record, src)
                            except Exception as exc:  # as the live projector: dead-lettered
                                found[(*key, offset)] = _mapping_failed(key, offset, record, exc)
                            else:
                                apply(safe_ops(ops) if scrub else ops)
                        positions[key] = (offset + 1, at)
                    done += 1
                else:
                    if limit is not None and records and records[-1].offset + 1 >= limit:
                        active.discard(tp)
            if loader.full():
                await loader.flush_append_only()
            if progress is not None:
                progress(done, total, time.monotonic() - started)
        if progress is not None:
            progress(done, done, time.monotonic() - started)
        return positions
    finally:
        await consumer.stop()


async def swap_in(
    conn: asyncpg.Connection, *, build: str, target: str, projections: tuple[Projection, ...]
) -> None:
    """Replace the projections' tables and positions in ``target`` by ``build``'s, atomically,
    then drop ``build``."""
    await migrate(conn, target)
    b, t = quote_schema(build), quote_schema(target)
    names = [p.name for p in projections]
    async with conn.transaction():
        tables = [tbl.name for p in projections for tbl in p.tables]
        await conn.execute(
            f"LOCK TABLE {', '.join(f'{t}.{n}' for n in tables)}, {t}.projection_positions "
            "IN ACCESS EXCLUSIVE MODE"
        )
        for name in tables:
            await conn.execute(f"DROP TABLE {t}.{name}")
            await conn.execute(f"ALTER TABLE {b}.{name} SET SCHEMA {target}")
        await conn.execute(
            f"DELETE FROM {t}.projection_positions WHERE projection = ANY($1::text[])", names
        )
        await conn.execute(
            f"INSERT INTO {t}.projection_positions (projection, topic, partition, next_offset,"
            " last_event_at) SELECT projection, topic, partition, next_offset, last_event_at"
            f" FROM {b}.projection_positions WHERE projection = ANY($1::text[])",
            names,
        )
        await conn.execute(
            f"DELETE FROM {t}.projection_dead_letters WHERE projection = ANY($1::text[])", names
        )
        await conn.execute(
            f"INSERT INTO {t}.projection_dead_letters SELECT * FROM {b}.projection_dead_letters"
            " WHERE projection = ANY($1::text[])",
            names,
        )
    await conn.execute(f"DROP SCHEMA {b} CASCADE")


async def replay(
    endpoints: Endpoints,
    *,
    projection: str | None = None,
    until: datetime | None = None,
    into_schema: str | None = None,
    swap: bool = False,
    target_schema: str = "public",
    progress: ProgressFn | bool = True,
    topic_prefix: str = "",
    follow: bool = False,
    stop: asyncio.Event | None = None,
    profile: BrokerProfile | None = None,
    retry_dead_letters: bool = False,
) -> ReplayResult:
    """``botctl replay``: rebuild into a fresh schema, optionally swap it in, then tail.

    ``projection``: comma-separated names (default all). ``into_schema``: the build schema
    (default ``rebuild_<utc timestamp>``; dropped and recreated if it exists; never the
    target). ``swap``: move the rebuilt tables into ``target_schema`` atomically.
    ``follow``: afterwards run the live projector on the resulting schema until ``stop``.
    The records the live projector dead-lettered in ``target_schema`` are skipped, unless
    ``retry_dead_letters`` (after the fault is fixed: they are applied like any other).
    """
    chosen = select(projection)
    build = into_schema or f"rebuild_{datetime.now(UTC):%Y%m%d%H%M%S}"
    if swap and build == target_schema:
        raise ReplayError("--into and the swap target are the same schema")
    if swap and until is not None:
        raise ReplayError("refusing to swap a rebuild --until a past time into the live schema")
    show: ProgressFn | None
    show = stderr_progress() if progress is True else (progress or None)
    profile = profile or await probe_broker(endpoints.kafka_bootstrap)
    dead: list[DeadLetter] = []
    if not retry_dead_letters:
        conn = await pg_connect(endpoints.database_url, bulk=True)
        try:  # the records the live projector dead-lettered stay out of the rebuild too
            dead = await load_dead_letters(conn, target_schema, [p.name for p in chosen])
        finally:
            await conn.close()
    result = await rebuild(
        endpoints,
        projections=chosen,
        schema=build,
        topic_prefix=topic_prefix,
        until=until,
        progress=show,
        profile=profile,
        protected={target_schema},
        dead_letters=dead,
    )
    if swap:
        conn = await pg_connect(endpoints.database_url, bulk=True)
        try:
            await swap_in(conn, build=build, target=target_schema, projections=chosen)
        finally:
            await conn.close()
        result.swapped_into = target_schema
    if follow:
        from infra.projector.runner import run_projector

        await run_projector(
            endpoints,
            None,
            stop or asyncio.Event(),
            topic_prefix=topic_prefix,
            schema=result.swapped_into or build,
            projections=projection,
            profile=profile,
        )
    return result

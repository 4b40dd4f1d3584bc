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
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.migrations import migrate
from infra.postgres import connect as pg_connect
from infra.postgres import quote_schema
from infra.projector.bulk import defer_indexes, in_parallel
from infra.projector.dead_letters import DeadLetter, SkipKey, load_dead_letters, save_dead_letters
from infra.projector.positions import PositionKey
from infra.projector.replay_load import LOADERS, Loader, analyze_job, gc_paused, restore_job
from infra.projector.replay_read import (
    Positions,
    ProgressFn,
    ReadPlan,
    ReplayError,
    read_projections,
)
from projections.catalog import Projection, select

__all__ = ["ProgressFn", "ReplayError", "ReplayResult", "rebuild", "replay", "swap_in"]


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
    connections = [conn]
    try:
        await _fresh_schema(conn, schema, protected or {"public"})
        tables = [t for p in projections for t in p.tables]
        deferred = await defer_indexes(conn, schema, [t.name for t in tables])
        loader = Loader(conn, schema, tables)
        plan = ReadPlan(until, stop_at, {d.key for d in dead_letters or ()}, {})
        phases: dict[str, float] = {}
        with gc_paused():
            try:
                await read_projections(
                    endpoints,
                    profile,
                    projections,
                    loader,
                    plan,
                    topic_prefix=topic_prefix,
                    idle_ms=idle_ms,
                    progress=progress,
                    started=started,
                )
                phases["read"] = time.monotonic() - started
                connections += await asyncio.gather(
                    *(pg_connect(endpoints.database_url, bulk=True) for _ in range(LOADERS - 1))
                )
                await loader.finish(connections)
            except BaseException:
                await loader.abort()
                raise
        phases["load"] = time.monotonic() - started - phases["read"]
        by_size = sorted(tables, key=lambda t: -loader.rows[t.name])
        await in_parallel(connections, [restore_job(schema, deferred[t.name]) for t in by_size])
        phases["index"] = time.monotonic() - started - phases["read"] - phases["load"]
        await _finish(connections, schema, plan, dead_letters or [], [t.name for t in tables])
        phases["finish"] = time.monotonic() - started - sum(phases.values())
        return ReplayResult(
            schema=schema,
            projections=[p.name for p in projections],
            records=loader_records(plan.positions),
            seconds=time.monotonic() - started,
            rows=dict(loader.rows),
            positions={k: v[0] for k, v in plan.positions.items()},
            phases=phases,
            dead_letters=sorted(plan.found.values(), key=lambda d: d.key),
        )
    finally:
        for each in connections:
            await each.close()


async def _finish(
    connections: list[asyncpg.Connection],
    schema: str,
    plan: ReadPlan,
    dead_letters: list[DeadLetter],
    tables: list[str],
) -> None:
    """Positions and dead letters into the new schema, then statistics for every table."""
    conn = connections[0]
    await conn.executemany(
        f"INSERT INTO {quote_schema(schema)}.projection_positions "
        "(projection, topic, partition, next_offset, last_event_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        [(p, t, part, off, at) for (p, t, part), (off, at) in plan.positions.items()],
    )
    found: dict[SkipKey, DeadLetter] = plan.found
    for letter in dead_letters:
        reached = plan.positions.get((letter.projection, letter.topic, letter.partition))
        if reached is not None and letter.offset < reached[0]:
            found.setdefault(letter.key, letter)
    await save_dead_letters(conn, schema, found.values())
    await in_parallel(connections, [analyze_job(f"{quote_schema(schema)}.{t}") for t in tables])


def loader_records(positions: Positions) -> int:
    """Records read: the highest position of each topic partition, summed."""
    per_tp: dict[tuple[str, int], int] = {}
    for (_, topic, partition), (offset, _at) in positions.items():
        per_tp[(topic, partition)] = max(per_tp.get((topic, partition), 0), offset)
    return sum(per_tp.values())


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

"""The loading half of a rebuild: whole rows to ``COPY``, then keys, indexes and statistics.

:class:`Loader` folds row operations into whole rows (:class:`projections.fold.RowFold`),
streams append-only rows to ``COPY`` in chunks while reading goes on, and loads the mutable
tables once at the end, spread over several connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Final

import asyncpg

from infra.projector.bulk import TableIndexes, in_parallel, restore_indexes
from projections.fold import RowFold
from projections.rows import Table

COPY_CHUNK: Final = 50_000
LOADERS: Final = 3
"""Connections loading the mutable tables and building indexes at the end, in parallel."""


class Loader:
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


def restore_job(
    schema: str, found: TableIndexes
) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def restore(conn: asyncpg.Connection) -> None:
        await restore_indexes(conn, schema, found)

    return restore


def analyze_job(qualified: str) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def analyze(conn: asyncpg.Connection) -> None:
        await conn.execute(f"ANALYZE {qualified}")

    return analyze


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while folding: a rebuild holds millions of acyclic
    rows, and every full collection would walk them all (it cost a third of the run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""Bulk loading a fresh build schema: keys and indexes built after the load, in parallel.

A rebuild COPYs every row into tables the migrations just created. Maintaining primary keys
and indexes row by row during the load costs PostgreSQL more than building each once at the
end, so :func:`defer_indexes` records the exact definitions PostgreSQL holds for them
(``pg_get_constraintdef``, ``pg_indexes.indexdef``), drops them, and :func:`restore_indexes`
recreates the same names and definitions after the load. Only ever used on a build schema
no reader sees; duplicate keys still fail the rebuild (when the key is rebuilt).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

import asyncpg

from infra.postgres import quote_schema

T = TypeVar("T")

MAINTENANCE_WORK_MEM: Final = "256MB"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(slots=True)
class TableIndexes:
    """The keys (``ALTER TABLE ... ADD CONSTRAINT``) and plain indexes of one table."""

    table: str
    constraints: list[tuple[str, str]] = field(default_factory=list)  # (name, definition)
    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX ...)


async def defer_indexes(
    conn: asyncpg.Connection, schema: str, tables: Sequence[str]
) -> dict[str, TableIndexes]:
    """Drop the primary keys, unique constraints and indexes of ``tables`` in ``schema``;
    answers their definitions for :func:`restore_indexes`."""
    found: dict[str, TableIndexes] = {t: TableIndexes(t) for t in tables}
    constraints = await conn.fetch(
        "SELECT cl.relname AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS def"
        " FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid"
        " JOIN pg_namespace n ON n.oid = cl.relnamespace"
        " WHERE n.nspname = $1 AND cl.relname = ANY($2::text[]) AND c.contype IN ('p', 'u')"
        " ORDER BY cl.relname, c.conname",
        schema,
        list(tables),
    )
    owned = {r["name"] for r in constraints}
    indexes = await conn.fetch(
        "SELECT tablename AS tbl, indexname AS name, indexdef AS def FROM pg_indexes"
        " WHERE schemaname = $1 AND tablename = ANY($2::text[]) ORDER BY tablename, indexname",
        schema,
        list(tables),
    )
    q = quote_schema(schema)
    async with conn.transaction():
        for r in constraints:
            found[r["tbl"]].constraints.append((r["name"], r["def"]))
            await conn.execute(
                f"ALTER TABLE {q}.{quote_ident(r['tbl'])} DROP CONSTRAINT {quote_ident(r['name'])}"
            )
        for r in indexes:
            if r["name"] in owned:
                continue  # dropped with its constraint
            found[r["tbl"]].indexes.append((r["name"], r["def"]))
            await conn.execute(f"DROP INDEX {q}.{quote_ident(r['name'])}")
    return found


async def restore_indexes(conn: asyncpg.Connection, schema: str, found: TableIndexes) -> None:
    """Recreate one table's keys and indexes (same names, same definitions)."""
    q = quote_schema(schema)
    await conn.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
    for name, definition in found.constraints:
        await conn.execute(
            f"ALTER TABLE {q}.{quote_ident(found.table)} "
            f"ADD CONSTRAINT {quote_ident(name)} {definition}"
        )
    for _name, definition in found.indexes:
        await conn.execute(definition)


async def in_parallel(
    connections: Sequence[asyncpg.Connection],
    jobs: Sequence[Callable[[asyncpg.Connection], Awaitable[T]]],
) -> list[T]:
    """Run ``jobs`` (largest first, as given) over ``connections``, one job per connection at
    a time; answers the results in job order."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(jobs)):
        queue.put_nowait(i)
    results: dict[int, T] = {}

    async def worker(conn: asyncpg.Connection) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            results[i] = await jobs[i](conn)

    await asyncio.gather(*(worker(c) for c in connections))
    return [results[i] for i in range(len(jobs))]

"""Consumer positions in ``projection_positions``: the truth about what each projection applied.

A batch's rows and its positions are written in one transaction; before writing, the batch
locks its position rows and checks they still say what the projector believes. Any other
value (another process advanced them, or a rebuild was swapped in) aborts the batch, and the
projector re-seeks to what the database says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from infra.postgres import quote_schema

PositionKey = tuple[str, str, int]
"""(projection, topic, partition)."""


class PositionConflict(Exception):
    """The stored positions are not those the batch was read from; re-seek and retry."""


@dataclass(frozen=True, slots=True)
class StoredPosition:
    projection: str
    topic: str
    partition: int
    next_offset: int
    last_event_at: datetime | None


async def load_positions(
    conn: asyncpg.Connection, schema: str, projections: Iterable[str]
) -> dict[PositionKey, StoredPosition]:
    rows = await conn.fetch(
        f"SELECT projection, topic, partition, next_offset, last_event_at "
        f"FROM {quote_schema(schema)}.projection_positions WHERE projection = ANY($1::text[])",
        list(projections),
    )
    return {
        (r["projection"], r["topic"], r["partition"]): StoredPosition(
            r["projection"], r["topic"], r["partition"], r["next_offset"], r["last_event_at"]
        )
        for r in rows
    }


async def lock_and_check(
    conn: asyncpg.Connection, schema: str, expected: dict[PositionKey, int]
) -> None:
    """Lock the position rows of ``expected`` and raise :class:`PositionConflict` if any
    differs (a missing row counts as offset 0). Call inside the batch's transaction."""
    projections = sorted({k[0] for k in expected})
    rows = await conn.fetch(
        f"SELECT projection, topic, partition, next_offset "
        f"FROM {quote_schema(schema)}.projection_positions "
        f"WHERE projection = ANY($1::text[]) ORDER BY projection, topic, partition FOR UPDATE",
        projections,
    )
    stored = {(r["projection"], r["topic"], r["partition"]): r["next_offset"] for r in rows}
    for key, offset in expected.items():
        if stored.get(key, 0) != offset:
            raise PositionConflict(
                f"{key[0]} {key[1]}[{key[2]}]: stored {stored.get(key, 0)}, expected {offset}"
            )


async def save_positions(
    conn: asyncpg.Connection,
    schema: str,
    positions: dict[PositionKey, tuple[int, datetime | None]],
) -> None:
    if not positions:
        return
    await conn.executemany(
        f"INSERT INTO {quote_schema(schema)}.projection_positions AS cur "
        "(projection, topic, partition, next_offset, last_event_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, now()) "
        "ON CONFLICT (projection, topic, partition) DO UPDATE SET "
        "next_offset = EXCLUDED.next_offset, "
        "last_event_at = COALESCE(EXCLUDED.last_event_at, cur.last_event_at), "
        "updated_at = now()",
        [(p, t, part, off, at) for (p, t, part), (off, at) in positions.items()],
    )

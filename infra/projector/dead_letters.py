"""Records a projection could not apply, in ``projection_dead_letters`` (see migration 0003).

The live projector parks such a record in its topic's ``.dlq`` twin (headers ``dlq-reason``
``apply_failed`` or ``mapping_failed``, ``dlq-projection``) and writes a row here in the same
transaction that moves the projection's position past it, so the other records go on. A
rebuild skips exactly the records listed here (and lists them in its own schema, so a swap
carries them over), which keeps live and replayed tables equal; ``botctl verify`` reports
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg

from infra.postgres import quote_schema
from projections.safe_text import safe_text

REASON_APPLY: Final = "apply_failed"
"""PostgreSQL refused the record's rows (bad data, a constraint, a size limit)."""
REASON_MAPPING: Final = "mapping_failed"
"""The projection's row mapping raised on the record."""
MAX_DETAIL: Final = 2000

SkipKey = tuple[str, str, int, int]
"""(projection, topic, partition, offset)."""

UNAPPLIABLE: Final = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,
)
"""Errors that belong to the rows of one record (any other database error is retried)."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record a projection skipped, and why."""

    projection: str
    topic: str
    partition: int
    offset: int
    record_type: str | None
    record_id: str | None
    reason: str
    detail: str
    at: datetime | None = None

    @property
    def key(self) -> SkipKey:
        return (self.projection, self.topic, self.partition, self.offset)

    def describe(self) -> str:
        what = self.record_type or "record"
        return (
            f"{self.projection}: {what} {self.record_id or ''} at {self.topic}[{self.partition}]"
            f"@{self.offset} dead-lettered ({self.reason}): {self.detail}"
        ).replace("  ", " ")


def error_detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]


async def load_dead_letters(
    conn: asyncpg.Connection, schema: str, projections: Iterable[str]
) -> list[DeadLetter]:
    """The dead letters of ``projections`` in ``schema`` (none when the table is missing;
    safe inside a transaction: nothing fails)."""
    table = f"{quote_schema(schema)}.projection_dead_letters"
    if await conn.fetchval("SELECT to_regclass($1)", table) is None:
        return []
    rows = await conn.fetch(
        "SELECT projection, topic, partition, source_offset, record_type, record_id,"
        f" reason, detail, dead_lettered_at FROM {table} WHERE projection = ANY($1::text[])"
        " ORDER BY projection, topic, partition, source_offset",
        list(projections),
    )
    return [
        DeadLetter(
            r["projection"],
            r["topic"],
            r["partition"],
            r["source_offset"],
            r["record_type"],
            r["record_id"],
            r["reason"],
            r["detail"],
            r["dead_lettered_at"],
        )
        for r in rows
    ]


async def save_dead_letters(
    conn: asyncpg.Connection, schema: str, letters: Iterable[DeadLetter]
) -> None:
    """Record ``letters`` (a record already listed is left as it is)."""
    rows = [
        (
            d.projection,
            d.topic,
            d.partition,
            d.offset,
            d.record_type,
            d.record_id,
            d.reason,
            safe_text(d.detail[:MAX_DETAIL]),
            d.at,
        )
        for d in letters
    ]
    if not rows:
        return
    await conn.executemany(
        f"INSERT INTO {quote_schema(schema)}.projection_dead_letters (projection, topic,"
        " partition, source_offset, record_type, record_id, reason, detail, dead_lettered_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now()))"
        " ON CONFLICT DO NOTHING",
        rows,
    )

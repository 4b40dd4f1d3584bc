"""``botctl verify``: rebuild into a scratch schema and compare it with the live one.

1. In one REPEATABLE READ transaction on the live schema: read the positions and compute,
   per table, the row count and a checksum (md5 over the md5 of every row's text, in key
   order) — a consistent snapshot even while a live projector keeps writing.
2. Rebuild the same projections into a scratch schema from offset zero up to exactly those
   positions, and compute the same figures there.
3. List the records the live projector dead-lettered (``projection_dead_letters``); the
   rebuild skips the same records.
4. Check the ledger invariants on the live schema: per user, every ``balance_after`` equals
   the previous one plus ``amount`` (in log order); rejections carry amount 0;
   ``users.balance`` equals the last ``balance_after`` and the sum of the amounts; no
   operation id appears twice among applied (non-rejected) entries.

Any difference makes the report not ``ok`` and is named (table, counts, or the invariant
with examples). The scratch schema is dropped unless asked to keep it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Final

import asyncpg

from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.postgres import connect as pg_connect
from infra.postgres import quote_schema
from infra.projector.dead_letters import DeadLetter, load_dead_letters
from infra.projector.positions import PositionKey
from infra.projector.replay import ProgressFn, rebuild
from projections.catalog import select
from projections.rows import Table

EXAMPLES: Final = 5


@dataclass(frozen=True, slots=True)
class TableCheck:
    table: str
    live_rows: int
    rebuilt_rows: int
    live_checksum: str
    rebuilt_checksum: str

    @property
    def ok(self) -> bool:
        return self.live_rows == self.rebuilt_rows and self.live_checksum == self.rebuilt_checksum


@dataclass(slots=True)
class VerifyReport:
    """The comparison per table and the invariant violations; ``ok`` when there are none."""

    schema: str
    tables: list[TableCheck] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    records: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    """Records the live projector could not apply and dead-lettered (the rebuild skips them
    too, so they are no difference; they are shown so an operator can fix and re-send them)."""

    @property
    def differences(self) -> list[str]:
        out = [
            f"table {t.table}: live {t.live_rows} rows (checksum {t.live_checksum[:12]}), "
            f"rebuilt {t.rebuilt_rows} rows (checksum {t.rebuilt_checksum[:12]})"
            for t in self.tables
            if not t.ok
        ]
        return out + self.violations

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        lines = [
            f"{t.table:16} {t.live_rows:>10} rows  {'ok' if t.ok else 'DIFFERENT'}"
            for t in self.tables
        ]
        lines += [f"DIFFERENCE: {d}" for d in self.differences]
        if self.dead_letters:
            lines.append(
                f"{len(self.dead_letters)} record(s) dead-lettered by the projector"
                " (in the topic's .dlq twin; fix and re-send them):"
            )
            lines += [f"DEAD LETTER: {d.describe()}" for d in self.dead_letters]
        lines.append("verify: ok" if self.ok else f"verify: {len(self.differences)} difference(s)")
        return "\n".join(lines)


def checksum_sql(schema: str, table: Table) -> str:
    order = ", ".join(table.key)
    return (
        "SELECT count(*) AS n, coalesce(md5(string_agg(md5(t::text), '' ORDER BY "
        f"{order})), '') AS sum FROM {quote_schema(schema)}.{table.name} t"
    )


async def checksums(
    conn: asyncpg.Connection, schema: str, tables: list[Table]
) -> dict[str, tuple[int, str]]:
    out = {}
    for table in tables:
        row = await conn.fetchrow(checksum_sql(schema, table))
        assert row is not None
        out[table.name] = (row["n"], row["sum"])
    return out


async def ledger_violations(conn: asyncpg.Connection, schema: str) -> list[str]:
    """The ledger invariants that do not hold, each with a few examples."""
    s = quote_schema(schema)
    found: list[str] = []
    chain = await conn.fetch(
        "SELECT user_id, operation_id, amount, balance_after, expected FROM ("
        " SELECT user_id, operation_id, amount, balance_after,"
        " coalesce(lag(balance_after) OVER w, 0) + amount AS expected"
        f" FROM {s}.ledger_entries WINDOW w AS (PARTITION BY user_id"
        " ORDER BY kafka_partition, kafka_offset)) x WHERE balance_after <> expected"
        f" LIMIT {EXAMPLES}"
    )
    for r in chain:
        found.append(
            f"ledger chain broken for user {r['user_id']} at {r['operation_id']}: balance_after "
            f"{r['balance_after']} but previous + amount = {r['expected']}"
        )
    rejected = await conn.fetch(
        f"SELECT user_id, operation_id, amount FROM {s}.ledger_entries"
        f" WHERE kind = 'operation_rejected' AND amount <> 0 LIMIT {EXAMPLES}"
    )
    for r in rejected:
        found.append(
            f"rejection {r['operation_id']} of user {r['user_id']} has amount {r['amount']}"
        )
    balances = await conn.fetch(
        "SELECT l.user_id, l.total, l.last, u.balance FROM ("
        " SELECT user_id, sum(amount) AS total,"
        " (array_agg(balance_after ORDER BY kafka_partition DESC, kafka_offset DESC)"
        "  FILTER (WHERE kind <> 'operation_rejected'))[1] AS last"
        f" FROM {s}.ledger_entries GROUP BY user_id) l"
        f" LEFT JOIN {s}.users u ON u.user_id = l.user_id"
        " WHERE u.balance IS DISTINCT FROM l.total OR l.last IS DISTINCT FROM l.total"
        f" LIMIT {EXAMPLES}"
    )
    for r in balances:
        found.append(
            f"balance of user {r['user_id']}: users.balance {r['balance']}, sum of amounts "
            f"{r['total']}, last balance_after {r['last']}"
        )
    duplicates = await conn.fetch(
        f"SELECT operation_id, count(*) AS n FROM {s}.ledger_entries"
        " WHERE kind <> 'operation_rejected' GROUP BY operation_id HAVING count(*) > 1"
        f" LIMIT {EXAMPLES}"
    )
    for r in duplicates:
        found.append(f"operation {r['operation_id']} applied {r['n']} times")
    return found


async def verify(
    endpoints: Endpoints,
    *,
    schema: str = "public",
    projection: str | None = None,
    topic_prefix: str = "",
    scratch_schema: str | None = None,
    keep_scratch: bool = False,
    progress: ProgressFn | None = None,
    profile: BrokerProfile | None = None,
) -> VerifyReport:
    """Compare ``schema`` with a rebuild from the log; see the module doc."""
    chosen = select(projection)
    tables = [t for p in chosen for t in p.tables]
    scratch = scratch_schema or f"verify_{uuid.uuid4().hex[:12]}"
    report = VerifyReport(schema=schema)
    conn = await pg_connect(endpoints.database_url, bulk=True)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await conn.fetch(
                "SELECT projection, topic, partition, next_offset FROM "
                f"{quote_schema(schema)}.projection_positions WHERE projection = ANY($1::text[])",
                [p.name for p in chosen],
            )
            stop_at: dict[PositionKey, int] = {
                (r["projection"], r["topic"], r["partition"]): r["next_offset"] for r in rows
            }
            live = await checksums(conn, schema, tables)
            report.dead_letters = await load_dead_letters(conn, schema, [p.name for p in chosen])
            if any(p.name in ("ledger", "users") for p in chosen) and {
                "ledger_entries",
                "users",
            } <= {t.name for t in tables}:
                report.violations += await ledger_violations(conn, schema)
        result = await rebuild(
            endpoints,
            projections=chosen,
            schema=scratch,
            topic_prefix=topic_prefix,
            stop_at=stop_at,
            progress=progress,
            profile=profile,
            protected={schema, "public"},
            dead_letters=report.dead_letters,
        )
        report.records = result.records
        rebuilt = await checksums(conn, scratch, tables)
        for table in tables:
            (ln, lsum), (rn, rsum) = live[table.name], rebuilt[table.name]
            report.tables.append(TableCheck(table.name, ln, rn, lsum, rsum))
    finally:
        if not keep_scratch:
            await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(scratch)} CASCADE")
        await conn.close()
    return report

"""The report's SQL over the read models, for a half-open range ``[since, until)`` (UTC).

Definitions (all from ``ledger_entries``; USD):

* **cost**: what usage costs at the price table's list prices: the sum of ``-amount`` of the
  ``usage_debited`` entries (there is no separate wholesale price table, so the provider
  cost is taken as the list price the billing actor charged);
* **revenue**: money received: ``payment_credited`` amounts, minus ``refund_debited``
  (negative amounts), plus ``refund_reversed``; **stars**: Stars credited minus refunded;
  starter credits and admin top-ups are not revenue;
* **margin** = revenue - cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg

from infra.postgres import quote_schema

COST: Final = "sum(CASE WHEN l.kind = 'usage_debited' THEN -l.amount ELSE 0 END)"
REVENUE: Final = (
    "sum(CASE WHEN l.kind IN ('payment_credited', 'refund_debited', 'refund_reversed')"
    " THEN l.amount ELSE 0 END)"
)
STARS: Final = (
    "sum(CASE WHEN l.kind = 'payment_credited' THEN l.stars"
    " WHEN l.kind = 'refund_debited' THEN -l.stars ELSE 0 END)"
)
RANGE: Final = "l.occurred_at >= $1 AND l.occurred_at < $2"
SERVER_TOOL_ITEMS: Final = "('web_search', 'web_fetch')"
"""Cost-line items of a model call that are server tools (``actors/billing/pricing.py``)."""


@dataclass(frozen=True, slots=True)
class Section:
    """One report section: a title, column names and rows (first column is the label)."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _tokens(field: str) -> str:
    return f"sum(coalesce((l.usage->>'{field}')::bigint, 0))::bigint"


def cache_read_share(uncached: Any, cache_read: Any, cache_write: Any) -> float:
    """The share of prompt tokens served from the cache (0 when there were none)."""
    total = int(uncached) + int(cache_read) + int(cache_write)
    return int(cache_read) / total if total else 0.0


def _money(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)


TOKEN_SUMS: Final = (
    f" {_tokens('input_tokens')} AS input_tokens,"
    f" {_tokens('output_tokens')} AS output_tokens,"
    f" {_tokens('cache_read_input_tokens')} AS cache_read,"
    f" {_tokens('cache_creation_5m_input_tokens')}"
    f" + {_tokens('cache_creation_1h_input_tokens')} AS cache_write"
)
"""The token sums of a section's query (cache writes of both lifetimes together)."""

TOKEN_COLUMNS: Final = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "cache_read_share",
)


def _token_cells(row: Any) -> tuple[int, int, int, int, float]:
    """A row's :data:`TOKEN_SUMS` as the cells of :data:`TOKEN_COLUMNS`."""
    return (
        int(row["input_tokens"]),
        int(row["cache_read"]),
        int(row["cache_write"]),
        int(row["output_tokens"]),
        cache_read_share(row["input_tokens"], row["cache_read"], row["cache_write"]),
    )


async def build_sections(
    conn: asyncpg.Connection, schema: str, since: datetime, until: datetime, top: int = 20
) -> list[Section]:
    """Every section of the report, in the order shown; ``top`` bounds the longer tables."""
    s = quote_schema(schema)
    return [
        await _by_day(conn, s, since, until),
        await _by_user(conn, s, since, until, top),
        await _by_model(conn, s, since, until),
        await _tokens_by_day(conn, s, since, until),
        await _by_tool(conn, s, since, until),
        await _top_threads(conn, s, since, until, top),
    ]


async def _by_day(conn: asyncpg.Connection, s: str, since: datetime, until: datetime) -> Section:
    """Cost, revenue, Stars and margin per UTC day."""
    rows = await conn.fetch(
        f"SELECT (l.occurred_at AT TIME ZONE 'UTC')::date AS day, {COST} AS cost,"
        f" {REVENUE} AS revenue, {STARS} AS stars FROM {s}.ledger_entries l WHERE {RANGE}"
        " GROUP BY 1 ORDER BY 1",
        since,
        until,
    )
    return Section(
        "by_day",
        "Cost and revenue by day",
        ("day", "cost_usd", "revenue_usd", "stars", "margin_usd"),
        [
            (
                r["day"].isoformat(),
                _money(r["cost"]),
                _money(r["revenue"]),
                r["stars"] or 0,
                _money(r["revenue"]) - _money(r["cost"]),
            )
            for r in rows
        ],
    )


async def _by_user(
    conn: asyncpg.Connection, s: str, since: datetime, until: datetime, top: int
) -> Section:
    """Cost, revenue, Stars and margin per user, the costliest ``top * 5`` first."""
    rows = await conn.fetch(
        f"SELECT l.user_id, max(u.username) AS username, {COST} AS cost, {REVENUE} AS revenue,"
        f" {STARS} AS stars FROM {s}.ledger_entries l LEFT JOIN {s}.users u"
        f" ON u.user_id = l.user_id WHERE {RANGE} GROUP BY l.user_id"
        f" ORDER BY {COST} DESC, l.user_id LIMIT {int(top) * 5}",
        since,
        until,
    )
    return Section(
        "by_user",
        "Cost and revenue by user",
        ("user_id", "username", "cost_usd", "revenue_usd", "stars", "margin_usd"),
        [
            (
                r["user_id"],
                r["username"] or "",
                _money(r["cost"]),
                _money(r["revenue"]),
                r["stars"] or 0,
                _money(r["revenue"]) - _money(r["cost"]),
            )
            for r in rows
        ],
    )


async def _by_model(conn: asyncpg.Connection, s: str, since: datetime, until: datetime) -> Section:
    """Charges, tokens, cache share and cost per model."""
    rows = await conn.fetch(
        f"SELECT l.model, count(*) AS calls, {COST} AS cost,{TOKEN_SUMS}"
        f" FROM {s}.ledger_entries l WHERE {RANGE} AND l.kind = 'usage_debited'"
        f" AND l.model IS NOT NULL GROUP BY l.model ORDER BY {COST} DESC",
        since,
        until,
    )
    return Section(
        "by_model",
        "Cost by model",
        ("model", "charges", *TOKEN_COLUMNS, "cost_usd"),
        [(r["model"], r["calls"], *_token_cells(r), _money(r["cost"])) for r in rows],
    )


async def _tokens_by_day(
    conn: asyncpg.Connection, s: str, since: datetime, until: datetime
) -> Section:
    """Tokens charged per UTC day, by kind, and the day's cache-read share."""
    rows = await conn.fetch(
        f"SELECT (l.occurred_at AT TIME ZONE 'UTC')::date AS day,{TOKEN_SUMS}"
        f" FROM {s}.ledger_entries l WHERE {RANGE} AND l.kind = 'usage_debited'"
        " AND l.usage IS NOT NULL GROUP BY 1 ORDER BY 1",
        since,
        until,
    )
    return Section(
        "tokens_by_day",
        "Tokens by day",
        ("day", *TOKEN_COLUMNS),
        [(r["day"].isoformat(), *_token_cells(r)) for r in rows],
    )


async def _by_tool(conn: asyncpg.Connection, s: str, since: datetime, until: datetime) -> Section:
    """Charges and cost per tool, client and server tools alike."""
    # client tools are charged on their own (tool_name); server tools (web search, web fetch)
    # are priced as lines of the model call that ran them: each use counts as a charge
    rows = await conn.fetch(
        f"SELECT tool_name, sum(calls) AS calls, sum(cost) AS cost FROM ("
        f"SELECT l.tool_name, count(*) AS calls, {COST} AS cost FROM {s}.ledger_entries l"
        f" WHERE {RANGE} AND l.kind = 'usage_debited' AND l.tool_name IS NOT NULL"
        f" GROUP BY l.tool_name"
        f" UNION ALL SELECT x->>'item', sum((x->>'quantity')::numeric),"
        f" sum((x->>'amount')::numeric) FROM {s}.ledger_entries l,"
        f" jsonb_array_elements(l.lines) x WHERE {RANGE} AND l.kind = 'usage_debited'"
        f" AND l.tool_name IS NULL AND x->>'item' IN {SERVER_TOOL_ITEMS}"
        f" GROUP BY x->>'item') t GROUP BY tool_name ORDER BY sum(cost) DESC, tool_name",
        since,
        until,
    )
    return Section(
        "by_tool",
        "Cost by tool",
        ("tool", "charges", "cost_usd"),
        [(r["tool_name"], r["calls"], _money(r["cost"])) for r in rows],
    )


async def _top_threads(
    conn: asyncpg.Connection, s: str, since: datetime, until: datetime, top: int
) -> Section:
    """The ``top`` costliest threads, with their turns."""
    rows = await conn.fetch(
        f"SELECT l.thread_key, max(t.title) AS title, count(DISTINCT l.turn_id) AS turns,"
        f" {COST} AS cost FROM {s}.ledger_entries l LEFT JOIN {s}.threads t"
        f" ON t.thread_key = l.thread_key WHERE {RANGE} AND l.kind = 'usage_debited'"
        f" AND l.thread_key IS NOT NULL GROUP BY l.thread_key"
        f" ORDER BY {COST} DESC, l.thread_key LIMIT {int(top)}",
        since,
        until,
    )
    return Section(
        "top_threads",
        f"Top {top} threads by cost",
        ("thread_key", "title", "turns", "cost_usd"),
        [(r["thread_key"], r["title"] or "", r["turns"], _money(r["cost"])) for r in rows],
    )

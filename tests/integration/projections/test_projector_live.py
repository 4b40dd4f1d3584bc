"""The live projector on the real broker, PostgreSQL and Redis: exactly-once rows, caches,
replay equivalence, --until, swap and verify."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest_asyncio
from projection_helpers import (
    create_topics,
    expected_counts,
    produce,
    projecting,
    table_sums,
    wait_positions,
)

from devkit.scenario import Scenario
from events.envelope import Envelope
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.migrations import migrate
from infra.postgres import create_pool, quote_schema
from infra.projector.lag import format_lag, lag
from infra.projector.replay import replay
from infra.projector.verify import verify
from infra.projector.views import ReadModelViews
from infra.redis_store import create_redis
from infra.reports.report import report
from projections.tables import TABLES

COUNT = 2500


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str
) -> AsyncIterator[dict[str, Any]]:
    """A scenario produced under a module-wide prefix and projected by a running projector."""
    import uuid

    prefix = f"p{uuid.uuid4().hex[:8]}."
    await create_topics(stack, prefix)
    scenario = Scenario(3, users=40)
    items: list[tuple[Any, Envelope]] = list(scenario.records(COUNT))
    await produce(stack, broker_profile, prefix, items)
    async with projecting(stack, broker_profile, prefix, pg_schema, items) as (stop, task):
        yield {"prefix": prefix, "items": items, "scenario": scenario, "stop": stop, "task": task}


async def test_migration_columns_match_the_table_specs(stack: Endpoints, pg_schema: str) -> None:
    """Every read-model table has exactly the columns projections/tables.py declares."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, pg_schema)
        for table in TABLES.values():
            rows = await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = $1"
                " AND table_name = $2 ORDER BY ordinal_position",
                pg_schema,
                table.name,
            )
            assert tuple(r[0] for r in rows) == table.columns, table.name
    finally:
        await conn.close()


async def test_balances_match_the_ledger(
    stack: Endpoints, pg_schema: str, world: dict[str, Any]
) -> None:
    """users.balance is each user's final balance_after; every ledger entry is one row."""
    scenario: Scenario = world["scenario"]
    conn = await asyncpg.connect(stack.database_url)
    try:
        s = quote_schema(pg_schema)
        rows = await conn.fetch(f"SELECT user_id, balance FROM {s}.users")
        assert {r["user_id"]: r["balance"] for r in rows} == {
            u.user_id: u.balance for u in scenario.users
        }
        ledger = sum(1 for spec, _ in world["items"] if spec.name == "bot.billing.ledger")
        assert await conn.fetchval(f"SELECT count(*) FROM {s}.ledger_entries") == ledger
    finally:
        await conn.close()


async def test_redelivered_records_change_nothing(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str, world: dict[str, Any]
) -> None:
    """Rewinding the stored positions to zero re-applies everything and changes no row."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(
            f"UPDATE {quote_schema(pg_schema)}.projection_positions SET next_offset = 0"
        )
    finally:
        await conn.close()
    # At its next batch the running projector sees the positions moved, re-seeks to zero
    # and re-applies every record; the result must equal a rebuild from the log.
    more = list(world["scenario"].records(20))
    await produce(stack, broker_profile, world["prefix"], more)
    world["items"] += more
    await wait_positions(stack, pg_schema, expected_counts(world["items"]))
    report = await verify(
        stack, schema=pg_schema, topic_prefix=world["prefix"], profile=broker_profile
    )
    assert report.ok, report.summary()


async def test_views_answer_from_redis_and_after_a_flush(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    pg_schema: str,
    world: dict[str, Any],
) -> None:
    """Balance and history come from Redis; flushed, they come from PostgreSQL, then refill."""
    scenario: Scenario = world["scenario"]
    redis = create_redis(stack.redis_url)
    pool = await create_pool(stack.database_url)
    prefix = f"{pg_schema}:"
    views = ReadModelViews(pool, redis, schema=pg_schema, prefix=prefix)
    no_cache = ReadModelViews(pool, None, schema=pg_schema)
    try:
        user = scenario.users[0]
        assert await redis.exists(f"{prefix}user:{user.user_id}")
        assert await views.balance(user.user_id) == user.balance
        ops = await views.recent_operations(user.user_id, 5)
        assert ops == await no_cache.recent_operations(user.user_id, 5)
        assert ops[0].balance_after == user.balance
        key = user.threads[0]
        history = await views.recent_history(key)
        assert history == await no_cache.recent_history(key)
        assert (await views.thread(key)) == (await no_cache.thread(key))
        # Flush our keys (the epoch marker included): answers stay correct from PostgreSQL.
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        await redis.delete(*keys)
        assert await views.balance(user.user_id) == user.balance
        assert await views.recent_history(key) == history
        # The next batch makes the projector notice and re-warm every key.
        more = list(scenario.records(30))
        await produce(stack, broker_profile, world["prefix"], more)
        world["items"] += more
        await wait_positions(stack, pg_schema, expected_counts(world["items"]))
        for _ in range(100):
            if await redis.exists(f"{prefix}user:{user.user_id}"):
                break
            await asyncio.sleep(0.1)
        assert await views.balance(user.user_id) == user.balance
        assert await views.balance(user.user_id) == await no_cache.balance(user.user_id)
        assert await views.balance(123) is None
    finally:
        await pool.close()
        await redis.aclose()


async def test_lag_reports_zero_when_caught_up(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str, world: dict[str, Any]
) -> None:
    """Caught up, every projection is 0 records behind."""
    lags = await lag(stack, schema=pg_schema, topic_prefix=world["prefix"], profile=broker_profile)
    assert {x.projection: x.records for x in lags} == {
        "users": 0,
        "ledger": 0,
        "threads": 0,
        "payments": 0,
        "admin": 0,
    }
    assert "PROJECTION" in format_lag(lags)


async def test_replay_is_identical_and_verify_passes_then_catches_tampering(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str, world: dict[str, Any]
) -> None:
    """A full rebuild equals the live tables; verify passes, and names a tampered table."""
    build = f"{pg_schema}_rb"
    result = await replay(
        stack,
        into_schema=build,
        target_schema=pg_schema,
        progress=False,
        topic_prefix=world["prefix"],
        profile=broker_profile,
    )
    try:
        assert result.records == len(world["items"])
        assert await table_sums(stack, build) == await table_sums(stack, pg_schema)
    finally:
        conn = await asyncpg.connect(stack.database_url)
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(build)} CASCADE")
        await conn.close()
    report = await verify(
        stack, schema=pg_schema, topic_prefix=world["prefix"], profile=broker_profile
    )
    assert report.ok, report.summary()
    conn = await asyncpg.connect(stack.database_url)
    try:
        s = quote_schema(pg_schema)
        victim = await conn.fetchval(f"SELECT event_id FROM {s}.ledger_entries LIMIT 1")
        await conn.execute(
            f"UPDATE {s}.ledger_entries SET amount = amount + 1 WHERE event_id = $1", victim
        )
        tampered = await verify(
            stack, schema=pg_schema, topic_prefix=world["prefix"], profile=broker_profile
        )
        assert not tampered.ok
        assert any("table ledger_entries" in d for d in tampered.differences)
        assert any("ledger chain broken" in d for d in tampered.differences)
        await conn.execute(
            f"UPDATE {s}.ledger_entries SET amount = amount - 1 WHERE event_id = $1", victim
        )
    finally:
        await conn.close()


async def test_replay_until_gives_the_state_as_of_that_time(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str, world: dict[str, Any]
) -> None:
    """--until T: balances are those of the ledger entries that occurred by T."""
    items = world["items"]
    ledger = [r for spec, r in items if spec.name == "bot.billing.ledger"]
    until = ledger[len(ledger) // 2].occurred_at
    expected: dict[int, Decimal] = {}
    for r in ledger:
        if r.occurred_at <= until and type(r).__name__ != "OperationRejected":
            expected[r.user_id] = r.balance_after
    build = f"{pg_schema}_until"
    await replay(
        stack,
        projection="users,ledger",
        until=until,
        into_schema=build,
        target_schema=pg_schema,
        progress=False,
        topic_prefix=world["prefix"],
        profile=broker_profile,
    )
    conn = await asyncpg.connect(stack.database_url)
    try:
        s = quote_schema(build)
        rows = await conn.fetch(f"SELECT user_id, balance FROM {s}.users WHERE balance IS NOT NULL")
        assert {r["user_id"]: r["balance"] for r in rows} == expected
        latest = await conn.fetchval(f"SELECT max(occurred_at) FROM {s}.ledger_entries")
        assert latest <= until
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(build)} CASCADE")
        await conn.close()


async def test_swap_replaces_a_projection_atomically_under_a_live_projector(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str, world: dict[str, Any]
) -> None:
    """A rebuilt projection swapped in while the projector runs: same rows, still live."""
    before = await table_sums(stack, pg_schema)
    result = await replay(
        stack,
        projection="threads",
        into_schema=f"{pg_schema}_swap",
        swap=True,
        target_schema=pg_schema,
        progress=False,
        topic_prefix=world["prefix"],
        profile=broker_profile,
    )
    assert result.swapped_into == pg_schema
    assert await table_sums(stack, pg_schema) == before
    more = list(world["scenario"].records(40))
    await produce(stack, broker_profile, world["prefix"], more)
    world["items"] += more
    await wait_positions(stack, pg_schema, expected_counts(world["items"]))
    report = await verify(
        stack, schema=pg_schema, topic_prefix=world["prefix"], profile=broker_profile
    )
    assert report.ok, report.summary()


async def test_report_writes_csv_and_html_with_the_ledger_totals(
    stack: Endpoints, pg_schema: str, world: dict[str, Any], tmp_path: Any
) -> None:
    """The report's cost and revenue are the ledger's usage debits and net payments."""
    from datetime import UTC, datetime

    from events import billing

    ledger = [r for spec, r in world["items"] if spec.name == "bot.billing.ledger"]
    cost = sum((-r.amount for r in ledger if isinstance(r, billing.UsageDebited)), Decimal(0))
    revenue = sum(
        (
            r.amount
            for r in ledger
            if isinstance(
                r, billing.PaymentCredited | billing.RefundDebited | billing.RefundReversed
            )
        ),
        Decimal(0),
    )
    result = await report(
        stack,
        since=datetime(2020, 1, 1, tzinfo=UTC),
        until=datetime(2100, 1, 1, tzinfo=UTC),
        out_dir=tmp_path,
        schema=pg_schema,
    )
    assert result.cost == cost
    assert result.revenue == revenue
    assert {p.name for p in result.csv} == {
        "by_day.csv",
        "by_user.csv",
        "by_model.csv",
        "tokens_by_day.csv",
        "by_tool.csv",
        "top_threads.csv",
    }
    page = result.html.read_text()
    assert "<svg" in page
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    by_model = (tmp_path / "by_model.csv").read_text().splitlines()
    assert by_model[0] == (
        "model,charges,input_tokens,cache_read_tokens,cache_write_tokens,output_tokens,"
        "cache_read_share,cost_usd"
    )
    assert len(by_model) > 1
    assert ".0000" not in page  # token counts are whole numbers, not 700.0000
    assert "T00:00:00" not in page  # the period is readable, not raw ISO

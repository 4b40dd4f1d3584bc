"""A hung PostgreSQL never hangs a caller: a statement blocked by a lock and a pool with no
free connection fail within their timeouts as StoreTimeout, and the projector retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
import pytest
from projection_helpers import create_topics, produce, wait_positions

from events import billing
from events.catalog import BILLING_LEDGER
from events.envelope import new_envelope
from events.samples import sample
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.migrations import migrate
from infra.postgres import PgTimeouts, StoreTimeout, create_pool, quote_schema
from infra.projector.runner import run_projector
from infra.projector.views import ReadModelViews
from infra.settings import load_settings

SHORT = PgTimeouts(command=0.5, acquire=0.5, connect=5.0)
USER = 777001


async def test_a_read_blocked_by_a_lock_and_a_full_pool_raise_store_timeout(
    stack: Endpoints, pg_schema: str
) -> None:
    """/balance's PostgreSQL read behind a table lock ends in StoreTimeout (not a hang),
    a pool with no free connection likewise, and the pool works again afterwards."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, pg_schema)
        await conn.execute(
            f"INSERT INTO {quote_schema(pg_schema)}.users (user_id, balance) VALUES ($1, 2.5)",
            USER,
        )
    finally:
        await conn.close()
    pool = await create_pool(stack.database_url, max_size=1, timeouts=SHORT)
    views = ReadModelViews(pool, None, schema=pg_schema)
    locker = await asyncpg.connect(stack.database_url)
    try:
        async with locker.transaction():
            await locker.execute(
                f"LOCK TABLE {quote_schema(pg_schema)}.users IN ACCESS EXCLUSIVE MODE"
            )
            async with asyncio.timeout(60):  # a guard against a hang, not a speed assertion
                with pytest.raises(StoreTimeout, match="statement timed out"):
                    await views.balance(USER)
        assert await views.balance(USER) == Decimal("2.5")
        async with pool.acquire():
            async with asyncio.timeout(60):
                with pytest.raises(StoreTimeout, match="no PostgreSQL connection free"):
                    await views.balance(USER)
        assert await views.balance(USER) == Decimal("2.5")
    finally:
        await locker.close()
        await pool.close()


async def _store_timeout_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Wait (up to a minute: a guard against a hang) for a batch failure with StoreTimeout."""
    for _ in range(600):
        if any(
            "StoreTimeout" in str(getattr(r, "fields", {}).get("error", "")) for r in caplog.records
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the projector never reported a StoreTimeout")


def _credit(operation: str, balance: str) -> Any:
    base = sample(billing.StarterCreditGranted, key=str(USER))
    return msgspec.structs.replace(
        base,
        **new_envelope(key=str(USER), producer="test"),
        user_id=USER,
        operation_id=operation,
        amount=Decimal("1"),
        balance_after=Decimal(balance),
    )


async def test_projector_retries_a_batch_blocked_by_a_row_lock(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    pg_schema: str,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a users row locked by another connection, the projector's batch times out with
    StoreTimeout and is retried (logged), and goes through once the lock is released."""
    schema = f"{pg_schema}_p"
    await create_topics(stack, topic_prefix)
    first = [(BILLING_LEDGER, _credit("op-1", "1"))]
    await produce(stack, broker_profile, topic_prefix, first)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_projector(
            Root(load_settings(), stack, profile=broker_profile),
            stop,
            topic_prefix=topic_prefix,
            schema=schema,
            projections="users,ledger",
            use_redis=False,
            pg_timeouts=SHORT,
        )
    )
    locker = await asyncpg.connect(stack.database_url)
    try:
        await wait_positions(stack, schema, {"users": 1, "ledger": 1})
        caplog.set_level(logging.WARNING, logger="infra.projector.runner")
        async with locker.transaction():
            await locker.execute(
                f"SELECT 1 FROM {quote_schema(schema)}.users WHERE user_id = $1 FOR UPDATE", USER
            )
            await produce(
                stack, broker_profile, topic_prefix, [(BILLING_LEDGER, _credit("op-2", "2"))]
            )
            await _store_timeout_logged(caplog)
        await wait_positions(stack, schema, {"users": 2, "ledger": 2})
        balance = await locker.fetchval(
            f"SELECT balance FROM {quote_schema(schema)}.users WHERE user_id = $1", USER
        )
        assert balance == Decimal("2")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        with contextlib.suppress(Exception):
            await locker.execute(f"DROP SCHEMA IF EXISTS {quote_schema(schema)} CASCADE")
        await locker.close()


async def test_a_hung_redis_costs_one_socket_timeout_then_postgresql_answers(
    stack: Endpoints, pg_schema: str
) -> None:
    """With Redis paused (CLIENT PAUSE: it accepts commands and answers none for 1.5 s), a
    balance read gives up after the socket timeout (0.3 s) and answers from PostgreSQL."""
    from infra.redis_store import create_redis

    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, pg_schema)
        await conn.execute(
            f"INSERT INTO {quote_schema(pg_schema)}.users (user_id, balance) VALUES ($1, 4.25)"
            " ON CONFLICT (user_id) DO UPDATE SET balance = EXCLUDED.balance",
            USER + 1,
        )
    finally:
        await conn.close()
    pool = await create_pool(stack.database_url, max_size=1, timeouts=SHORT)
    redis = create_redis(stack.redis_url, socket_timeout=0.3)
    admin = create_redis(stack.redis_url, socket_timeout=30.0)
    views = ReadModelViews(pool, redis, schema=pg_schema, prefix=f"{pg_schema}:")
    try:
        await redis.ping()  # connected before the pause
        await admin.execute_command("CLIENT", "PAUSE", "1500", "ALL")
        async with asyncio.timeout(60):  # a guard against a hang, not a speed assertion
            assert await views.balance(USER + 1) == Decimal("4.25")
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")  # (answered, at worst, when over)
        await admin.ping()
        await admin.aclose()
        await redis.aclose()
        await pool.close()

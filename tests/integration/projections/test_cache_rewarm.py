"""The Redis re-warm is incremental: pages from a cursor kept in Redis, so it ends however
many users there are and resumes where it stopped after an interruption."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest_asyncio

from infra.endpoints import Endpoints
from infra.migrations import migrate
from infra.postgres import PgTimeouts, create_pool, quote_schema
from infra.projector.cache import CacheWriter, user_key
from infra.redis_store import create_redis

USERS = 20_000
THREADS = 300
PAGE = 1_000


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def many_users(stack: Endpoints, pg_schema: str) -> str:
    """``USERS`` users and ``THREADS`` threads in the read model."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, pg_schema)
        s = quote_schema(pg_schema)
        await conn.execute(
            f"INSERT INTO {s}.users (user_id, first_name, balance)"
            f" SELECT g, 'user ' || g, 1.5 FROM generate_series(1, {USERS}) g"
        )
        await conn.execute(
            f"INSERT INTO {s}.threads (thread_key, chat_id, title)"
            f" SELECT g || ':0', g, 'thread ' || g FROM generate_series(1, {THREADS}) g"
        )
    finally:
        await conn.close()
    return pg_schema


@pytest_asyncio.fixture(loop_scope="session")
async def writer_parts(stack: Endpoints) -> AsyncIterator[dict[str, Any]]:
    # A page is 1,000 users in one pipeline; the Redis the test processes share can take
    # longer than the 1 s production timeout to answer it on a loaded machine (a CI run
    # failed so), and these tests are about paging, not about that timeout.
    redis = create_redis(stack.redis_url, socket_timeout=15.0)
    pool = await create_pool(
        stack.database_url, max_size=2, timeouts=PgTimeouts(command=1.0, acquire=1.0)
    )
    yield {"redis": redis, "pool": pool, "prefix": f"w{uuid.uuid4().hex[:8]}:"}
    await pool.close()
    await redis.aclose()


async def test_rewarm_of_many_users_ends_page_by_page(
    many_users: str, writer_parts: dict[str, Any]
) -> None:
    """20,000 users are re-warmed in pages of 1,000 from a cursor; the pass ends with every
    user cached and the epoch set, and no step wrote more than one page."""
    redis, prefix = writer_parts["redis"], writer_parts["prefix"]
    writer = CacheWriter(redis, writer_parts["pool"], many_users, prefix=prefix, page=PAGE)
    assert not await writer.warm_step()
    assert await redis.exists(writer.cursor_key)
    assert await redis.hlen(user_key(prefix, PAGE)) > 0
    assert await redis.exists(f"{prefix}thread:{PAGE // 10}:0")
    assert not await redis.exists(user_key(prefix, PAGE + 1))  # one page only
    while not await writer.warm_step():
        pass
    assert writer.pages_warmed == USERS // PAGE + 1  # the last page finds the end
    assert not writer.needs_warm
    assert await redis.exists(writer.epoch_key)
    assert not await redis.exists(writer.cursor_key)
    assert await redis.hget(user_key(prefix, USERS), "first_name") == f"user {USERS}".encode()
    assert await redis.exists(f"{prefix}thread:{THREADS}:0")


async def test_interrupted_rewarm_resumes_from_its_cursor(
    stack: Endpoints, many_users: str, writer_parts: dict[str, Any]
) -> None:
    """A page that fails (PostgreSQL blocked past the command timeout) is logged and halved,
    and the next call resumes at the cursor instead of starting the pass over; a new process
    starts a fresh pass."""
    redis, prefix = writer_parts["redis"], writer_parts["prefix"]
    writer = CacheWriter(redis, writer_parts["pool"], many_users, prefix=prefix, page=PAGE)
    for _ in range(3):
        assert not await writer.warm_step()
    # Remove the first page's entries: a pass that started over would write them again.
    first_page = [user_key(prefix, u) for u in range(1, PAGE + 1)]
    await redis.delete(*first_page)
    locker = await asyncpg.connect(stack.database_url)
    try:
        tx = locker.transaction()
        await tx.start()
        await locker.execute(
            f"LOCK TABLE {quote_schema(many_users)}.users IN ACCESS EXCLUSIVE MODE"
        )
        async with asyncio.timeout(60):  # a guard against a hang, not a speed assertion
            assert not await writer.idle(budget=5.0)  # the page times out: not warm
        await tx.rollback()
    finally:
        await locker.close()
    assert writer.needs_warm
    writer._retry_at = 0.0  # skip the back-off pause
    while not await writer.idle(budget=60.0):
        writer._retry_at = 0.0
    assert writer.page == PAGE // 2  # the page that timed out was halved
    assert writer.pages_warmed == 3 + (USERS - 3 * PAGE) // (PAGE // 2) + 1
    assert await redis.exists(writer.epoch_key)
    assert not any(await asyncio.gather(*(redis.exists(k) for k in first_page[:50])))
    assert await redis.exists(user_key(prefix, PAGE + 1))
    assert await redis.exists(user_key(prefix, USERS))

    # A new projector process starts a fresh pass (its predecessor may have lost a refresh).
    restarted = CacheWriter(redis, writer_parts["pool"], many_users, prefix=prefix, page=PAGE)
    await redis.set(restarted.cursor_key, b'{"users_after": 19000, "threads_after": null}')
    assert not await restarted.warm_step()
    assert await redis.exists(user_key(prefix, 1))


async def test_keys_whose_write_failed_are_written_later_without_a_new_pass(
    stack: Endpoints, many_users: str, writer_parts: dict[str, Any]
) -> None:
    """A batch's keys whose write failed (PostgreSQL blocked) stay due and are written at the
    next call; the warm cache is not thrown away for a full pass."""
    from projections.changes import Changes
    from projections.rows import Patch
    from projections.tables import USERS as USERS_TABLE

    redis, prefix = writer_parts["redis"], writer_parts["prefix"]
    writer = CacheWriter(redis, writer_parts["pool"], many_users, prefix=prefix, page=PAGE)
    await writer.warm()
    assert not writer.needs_warm
    s = quote_schema(many_users)
    changes = Changes([USERS_TABLE])
    changes.apply(Patch("users", "profile", (5,), {"first_name": "renamed"}, 1))
    locker = await asyncpg.connect(stack.database_url)
    try:
        await locker.execute(f"UPDATE {s}.users SET first_name = 'renamed' WHERE user_id = 5")
        tx = locker.transaction()
        await tx.start()
        await locker.execute(f"LOCK TABLE {s}.users IN ACCESS EXCLUSIVE MODE")
        async with asyncio.timeout(60):  # a guard against a hang, not a speed assertion
            await writer.after_commit(changes)
        await tx.rollback()
    finally:
        await locker.close()
    assert writer.dirty.users == {5}
    assert await redis.hget(user_key(prefix, 5), "first_name") == b"user 5"
    writer._retry_at = 0.0  # skip the back-off pause
    assert await writer.idle()
    assert not writer.needs_warm
    assert writer.pages_warmed == USERS // PAGE + 1  # no second pass
    assert await redis.hget(user_key(prefix, 5), "first_name") == b"renamed"

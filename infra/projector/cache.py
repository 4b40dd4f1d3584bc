"""Redis caches, written only by the projector that owns the keys' partitions.

Keys (``prefix`` defaults to ``cg:``; values are computed from committed PostgreSQL rows,
never from Redis, so there is no read-modify-write and no Lua):

* ``{prefix}user:{user_id}`` hash: profile, settings and balance (the ``users`` row);
* ``{prefix}user:{user_id}:ops`` JSON list: the newest ledger operations, newest first;
* ``{prefix}thread:{thread_key}`` hash: thread metadata (title, overrides, reset time);
* ``{prefix}thread:{thread_key}:history`` JSON list: the newest messages since the last
  reset, oldest first;
* ``{prefix}epoch`` marks a warm cache: when it is missing (Redis flushed or restarted) or a
  write failed, the writer re-warms every key of its partitions from PostgreSQL.

Every entry expires after :data:`TTL_SECONDS`; readers fall back to PostgreSQL on a miss.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg
import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from infra.projector import queries
from infra.views import LedgerLine
from projections.changes import Changes

log = logging.getLogger(__name__)

TTL_SECONDS: Final = 7 * 24 * 3600
RETRY_AFTER_SECONDS: Final = 5.0
WARM_PAGE: Final = 1000
_JSON = msgspec.json.Encoder(decimal_format="string")


def user_key(prefix: str, user_id: int) -> str:
    return f"{prefix}user:{user_id}"


def ops_key(prefix: str, user_id: int) -> str:
    return f"{prefix}user:{user_id}:ops"


def thread_key(prefix: str, key: str) -> str:
    return f"{prefix}thread:{key}"


def history_key(prefix: str, key: str) -> str:
    return f"{prefix}thread:{key}:history"


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _hash(record: Any, fields: Sequence[str]) -> dict[str, str]:
    return {f: _text(record[f]) for f in fields if record[f] is not None}


def encode_operations(lines: Iterable[LedgerLine]) -> bytes:
    return _JSON.encode(
        [
            {
                "occurred_at": line.occurred_at,
                "kind": line.kind,
                "amount": line.amount,
                "balance_after": line.balance_after,
                "description": line.description,
                "operation_id": line.operation_id,
            }
            for line in lines
        ]
    )


def encode_history(messages: Iterable[queries.HistoryMessage]) -> bytes:
    return _JSON.encode(list(messages))


class CacheWriter:
    """Refreshes the cache entries of the keys a committed batch touched."""

    def __init__(
        self,
        redis: aioredis.Redis,
        pool: asyncpg.Pool,
        schema: str,
        *,
        prefix: str = "cg:",
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self.redis = redis
        self.pool = pool
        self.schema = schema
        self.prefix = prefix
        self.owns = owns or (lambda _key: True)
        self.needs_warm = True
        self._retry_at = 0.0

    @property
    def epoch_key(self) -> str:
        return f"{self.prefix}epoch"

    async def after_commit(self, changes: Changes) -> None:
        """Write the entries for what ``changes`` touched; errors are logged and swallowed."""
        if time.monotonic() < self._retry_at:
            return
        try:
            async with asyncio.timeout(10):
                if self.needs_warm or not await self.redis.exists(self.epoch_key):
                    await self.warm()
                    return
                await self._refresh(*touched(changes))
        except (RedisError, OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning(
                "cache write failed; will re-warm",
                extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}},
            )
            self.needs_warm = True
            self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS

    async def _refresh(
        self, users: set[int], op_users: set[int], threads: set[str], histories: set[str]
    ) -> None:
        if not (users or op_users or threads or histories):
            return
        p = self.prefix
        async with self.pool.acquire() as conn:
            user_rows = await queries.fetch_users(conn, self.schema, sorted(users))
            operations = await queries.fetch_operations(
                conn, self.schema, sorted(op_users), queries.OPERATIONS_LIMIT
            )
            thread_rows = await queries.fetch_threads(conn, self.schema, sorted(threads))
            history = await queries.fetch_histories(
                conn, self.schema, sorted(histories), queries.HISTORY_LIMIT
            )
        pipe = self.redis.pipeline(transaction=False)
        for row in user_rows:
            self._set_hash(pipe, user_key(p, row["user_id"]), _hash(row, queries.USER_FIELDS))
        for uid, lines in operations.items():
            pipe.set(ops_key(p, uid), encode_operations(lines), ex=TTL_SECONDS)
        for row in thread_rows:
            key = thread_key(p, row["thread_key"])
            self._set_hash(pipe, key, _hash(row, queries.THREAD_FIELDS))
        for key, messages in history.items():
            pipe.set(history_key(p, key), encode_history(messages), ex=TTL_SECONDS)
        await pipe.execute()

    @staticmethod
    def _set_hash(pipe: Any, key: str, mapping: dict[str, str]) -> None:
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, TTL_SECONDS)

    async def warm(self) -> None:
        """Rewrite every entry of the owned keys from PostgreSQL, then mark the cache warm."""
        s = self.schema
        async with self.pool.acquire() as conn:
            user_ids = [
                r[0] for r in await conn.fetch(f'SELECT user_id FROM "{s}".users ORDER BY 1')
            ]
            thread_keys = [
                r[0] for r in await conn.fetch(f'SELECT thread_key FROM "{s}".threads ORDER BY 1')
            ]
        user_ids = [u for u in user_ids if self.owns(str(u))]
        thread_keys = [k for k in thread_keys if self.owns(k)]
        for i in range(0, max(len(user_ids), len(thread_keys)), WARM_PAGE):
            users = set(user_ids[i : i + WARM_PAGE])
            threads = set(thread_keys[i : i + WARM_PAGE])
            await self._refresh(users, users, threads, threads)
        await self.redis.set(self.epoch_key, str(time.time()))
        self.needs_warm = False
        log.info(
            "cache warmed",
            extra={"fields": {"users": len(user_ids), "threads": len(thread_keys)}},
        )


def touched(changes: Changes) -> tuple[set[int], set[int], set[str], set[str]]:
    """(users, users with new ledger entries, threads, threads whose history changed)."""
    users: set[int] = {k[0] for k in changes.touched_keys("users")}
    op_users: set[int] = {
        row["user_id"] for row in changes.inserts.get("ledger_entries", {}).values()
    }
    threads: set[str] = {k[0] for k in changes.touched_keys("threads")}
    histories: set[str] = set()
    for (table, _group), merged in changes.patches.items():
        if table == "messages":
            histories.update(
                p.values["thread_key"] for p in merged.values() if "thread_key" in p.values
            )
    histories.update(
        key[0]
        for (table, _g), merged in changes.patches.items()
        if table == "threads"
        for key, p in merged.items()
        if "reset_offset" in p.values
    )
    return users, op_users, threads, histories


def decimal_field(value: bytes | str | None) -> Decimal | None:
    return queries.to_decimal(value)

"""Redis caches, written only by the projector that owns the keys' partitions.

Keys (``prefix`` defaults to ``cg:``; values are computed from committed PostgreSQL rows,
never from Redis, so there is no read-modify-write and no Lua):

* ``{prefix}user:{user_id}`` hash: profile, settings and balance (the ``users`` row);
* ``{prefix}user:{user_id}:ops`` JSON list: the newest ledger operations, newest first;
* ``{prefix}thread:{thread_key}`` hash: thread metadata (title, overrides, reset time);
* ``{prefix}thread:{thread_key}:history`` JSON list: the newest messages since the last
  reset, oldest first;
* ``{prefix}epoch`` marks a warm cache: when it is missing (Redis flushed or restarted) or a
  write failed, the writer re-warms every key of its partitions from PostgreSQL;
* ``{prefix}warm:{name}`` the cursor of a re-warm in progress (one per projector instance).

A re-warm is incremental: pages of :data:`WARM_PAGE` users (and a tenth as many threads), in
key order, each page written and then the cursor moved past it, for at most
:data:`WARM_BUDGET_SECONDS` after a batch (or while the projector is idle), each page under its
own timeout. A page that fails is retried from the cursor later, and one that timed out is
halved first; however many users there are, the pass ends.
A new pass starts from the beginning when the process starts (its predecessor may have
committed a batch and died before writing its keys) or when Redis lost the entries (the epoch
is gone); otherwise an interrupted pass resumes where its cursor is. A batch's keys whose
write failed stay due and are written with a later batch (or, past :data:`DIRTY_MAX` keys,
by a new pass).

Every entry expires after :data:`TTL_SECONDS`; readers fall back to PostgreSQL on a miss.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Final

import asyncpg
import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from infra.postgres import StoreTimeout, quote_schema
from infra.projector import queries
from infra.views import LedgerLine
from projections.changes import Changes

log = logging.getLogger(__name__)

TTL_SECONDS: Final = 7 * 24 * 3600
RETRY_AFTER_SECONDS: Final = 5.0
WARM_PAGE: Final = 1000
"""Users per re-warm page (threads: a tenth of it, each carries its history)."""
WARM_BUDGET_SECONDS: Final = 0.5
"""How long one call may spend on re-warm pages (it runs on the projector's loop)."""
STEP_TIMEOUT_SECONDS: Final = 10.0
"""Timeout of one refresh (a chunk of a batch's keys, or one re-warm page)."""
DIRTY_MAX: Final = 200_000
"""Keys remembered for a later write after failures; past it, a full re-warm pass instead."""
CACHE_ERRORS: Final = (RedisError, OSError, TimeoutError, asyncpg.PostgresError, StoreTimeout)
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
                "operation_id": line.operation_id,
                "subject": line.subject,
                "source": line.source,
                "reference": line.reference,
            }
            for line in lines
        ]
    )


def encode_history(messages: Iterable[queries.HistoryMessage]) -> bytes:
    return _JSON.encode(list(messages))


class WarmCursor(msgspec.Struct):
    """Where a re-warm pass is: the last user id and thread key written (None: none yet)."""

    users_after: int | None = None
    threads_after: str | None = None
    users_done: bool = False
    threads_done: bool = False


_CURSOR = msgspec.json.Decoder(WarmCursor)


class Dirty:
    """Keys whose entries are due: touched by committed batches, not yet written."""

    __slots__ = ("histories", "op_users", "threads", "users")

    def __init__(self) -> None:
        self.users: set[int] = set()
        self.op_users: set[int] = set()
        self.threads: set[str] = set()
        self.histories: set[str] = set()

    def add(self, users: set[int], op_users: set[int], threads: set[str], hist: set[str]) -> None:
        self.users |= users
        self.op_users |= op_users
        self.threads |= threads
        self.histories |= hist

    def take(self, users: int, threads: int) -> tuple[set[int], set[int], set[str], set[str]]:
        """Up to ``users`` users and ``threads`` threads of each kind (left in place)."""
        return (
            set(itertools.islice(self.users, users)),
            set(itertools.islice(self.op_users, users)),
            set(itertools.islice(self.threads, threads)),
            set(itertools.islice(self.histories, threads)),
        )

    def discard(
        self, users: set[int], op_users: set[int], threads: set[str], hist: set[str]
    ) -> None:
        self.users -= users
        self.op_users -= op_users
        self.threads -= threads
        self.histories -= hist

    def clear(self) -> None:
        for keys in (self.users, self.op_users, self.threads, self.histories):
            keys.clear()

    def __len__(self) -> int:
        return len(self.users) + len(self.op_users) + len(self.threads) + len(self.histories)


class CacheWriter:
    """Refreshes the cache entries of the keys a committed batch touched; re-warms."""

    def __init__(
        self,
        redis: aioredis.Redis,
        pool: asyncpg.Pool,
        schema: str,
        *,
        prefix: str = "cg:",
        owns: Callable[[str], bool] | None = None,
        name: str = "0",
        page: int = WARM_PAGE,
    ) -> None:
        self.redis = redis
        self.pool = pool
        self.schema = schema
        self.prefix = prefix
        self.owns = owns or (lambda _key: True)
        self.name = name
        self.page = page
        self.thread_page = max(1, page // 10)
        self.needs_warm = True
        self.restart_warm = True  # a new process may have lost its predecessor's refresh
        self.pages_warmed = 0
        self.dirty = Dirty()
        self._retry_at = 0.0

    @property
    def epoch_key(self) -> str:
        return f"{self.prefix}epoch"

    @property
    def cursor_key(self) -> str:
        return f"{self.prefix}warm:{self.name}"

    async def after_commit(self, changes: Changes) -> None:
        """Write the entries for what ``changes`` touched (and any earlier batch's keys whose
        write failed), then go on with a re-warm if one is due; errors are logged and
        swallowed (the keys stay due)."""
        self.dirty.add(*touched(changes))
        if len(self.dirty) > DIRTY_MAX:  # too much to remember: a full pass instead
            self.dirty.clear()
            self.needs_warm = True
            self.restart_warm = True
        if time.monotonic() < self._retry_at:
            return
        try:
            async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
                if not self.needs_warm and not await self.redis.exists(self.epoch_key):
                    self.needs_warm = True  # Redis lost the entries
                    self.restart_warm = True
        except CACHE_ERRORS as exc:
            self._failed("cache check failed; will retry", exc)
            return
        await self.idle()

    async def idle(self, budget: float = WARM_BUDGET_SECONDS) -> bool:
        """Write the keys still due, in chunks, then re-warm pages for at most ``budget``
        seconds if a pass is due; answers whether the cache is warm and up to date. Errors
        are logged; what is due stays due and a pass resumes from its cursor later."""
        if not self.needs_warm and not self.dirty:
            return True
        if time.monotonic() < self._retry_at:
            return False
        deadline = time.monotonic() + budget
        try:
            while self.dirty:
                chunk = self.dirty.take(self.page, self.thread_page)
                async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
                    await self._refresh(*chunk)
                self.dirty.discard(*chunk)
            while self.needs_warm and time.monotonic() < deadline:
                async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
                    await self.warm_step()
        except CACHE_ERRORS as exc:
            if isinstance(exc, TimeoutError | StoreTimeout):
                # pages too heavy for the timeouts (long histories): halve them, so the pass
                # still ends however the data is shaped
                self.page = max(1, self.page // 2)
                self.thread_page = max(1, self.thread_page // 2)
            self._failed("cache write failed; will resume", exc)
        return not self.needs_warm and not self.dirty

    def _failed(self, what: str, exc: BaseException) -> None:
        log.warning(what, extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}})
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

    async def _cursor(self) -> WarmCursor:
        if self.restart_warm:
            await self.redis.delete(self.cursor_key)
            self.restart_warm = False
            return WarmCursor()
        raw = await self.redis.get(self.cursor_key)
        if raw is None:
            return WarmCursor()
        try:
            return _CURSOR.decode(raw)
        except msgspec.DecodeError:
            return WarmCursor()

    async def warm_step(self) -> bool:
        """Write the next page of owned users and threads from the cursor and move the cursor
        past it; at the end mark the cache warm. Answers whether the pass is complete."""
        cursor = await self._cursor()
        s = quote_schema(self.schema)
        async with self.pool.acquire() as conn:
            user_ids: list[int] = []
            thread_keys: list[str] = []
            if not cursor.users_done:
                user_ids = [
                    r[0]
                    for r in await conn.fetch(
                        f"SELECT user_id FROM {s}.users WHERE $1::bigint IS NULL OR user_id > $1"
                        " ORDER BY user_id LIMIT $2",
                        cursor.users_after,
                        self.page,
                    )
                ]
            if not cursor.threads_done:
                thread_keys = [
                    r[0]
                    for r in await conn.fetch(
                        f"SELECT thread_key FROM {s}.threads WHERE $1::text IS NULL"
                        " OR thread_key > $1 ORDER BY thread_key LIMIT $2",
                        cursor.threads_after,
                        self.thread_page,
                    )
                ]
        users = {u for u in user_ids if self.owns(str(u))}
        threads = {k for k in thread_keys if self.owns(k)}
        await self._refresh(users, users, threads, threads)
        cursor = WarmCursor(
            users_after=user_ids[-1] if user_ids else cursor.users_after,
            threads_after=thread_keys[-1] if thread_keys else cursor.threads_after,
            users_done=cursor.users_done or len(user_ids) < self.page,
            threads_done=cursor.threads_done or len(thread_keys) < self.thread_page,
        )
        self.pages_warmed += 1
        if not (cursor.users_done and cursor.threads_done):
            await self.redis.set(self.cursor_key, _JSON.encode(cursor), ex=TTL_SECONDS)
            return False
        await self.redis.set(self.epoch_key, str(time.time()))
        await self.redis.delete(self.cursor_key)
        self.needs_warm = False
        log.info("cache warmed", extra={"fields": {"pages": self.pages_warmed}})
        return True

    async def warm(self) -> None:
        """A whole re-warm pass now, page after page (tools and tests; the projector uses
        :meth:`idle` so no single call runs long)."""
        self.needs_warm = True
        while not await self.warm_step():
            pass


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

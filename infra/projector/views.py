"""Read ports over the read models: Redis first, PostgreSQL behind it.

:class:`ReadModelViews` implements :class:`infra.views.BalanceView` and
:class:`infra.views.UserReads` (the one read port for users and balances), the users'
settings the gateway shows (``/model``, ``/personality``), usernames (``/topup @name``) and
the thread view the thread actor may use to build context. A Redis miss or error answers
from PostgreSQL; after a Redis error, Redis is skipped for a few seconds so a dead Redis
costs nothing. Readers never write the cache (the projector is the only writer of every
key).

Nothing here waits without bound: Redis has a socket timeout, and the PostgreSQL pool a
command and an acquire timeout (:mod:`infra.postgres`); a PostgreSQL read that runs past
them raises :class:`infra.postgres.StoreTimeout` for the caller to answer "try again".
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg
import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from infra.postgres import quote_schema
from infra.projector import cache, queries
from infra.projector.queries import HistoryMessage
from infra.views import LedgerLine, UserPreferences

log = logging.getLogger(__name__)

SKIP_REDIS_SECONDS: Final = 5.0


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """A thread's metadata as the read model holds it."""

    thread_key: str
    chat_id: int | None
    message_thread_id: int | None
    chat_type: str | None
    is_forum: bool | None
    title: str | None
    model_override: str | None
    personality_override: str | None
    reset_at: datetime | None
    last_activity_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserSettings:
    """A user's settings as the ``users`` read model holds them.

    ``default_model`` is None while the users projection has not seen the registration (the
    row may exist for the balance alone); ``personality`` None is the default personality,
    ``thinking`` None the default level (off); ``language`` None: not chosen with
    ``/language`` (the Telegram language decides), ``language_code`` the Telegram one.
    """

    user_id: int
    default_model: str | None
    personality: str | None
    thinking: str | None = None
    language: str | None = None
    language_code: str | None = None


class _Line(msgspec.Struct):
    occurred_at: datetime
    kind: str
    amount: Decimal
    balance_after: Decimal
    operation_id: str
    subject: str = ""
    source: str = ""
    reference: str = ""


_LINES = msgspec.json.Decoder(list[_Line])
_HISTORY = msgspec.json.Decoder(list[HistoryMessage])


def _bool(value: str | None) -> bool | None:
    return None if value is None else value == "1"


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class ReadModelViews:
    """Balance, operations, user settings, thread metadata and recent history of the read
    models."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        redis: aioredis.Redis | None,
        *,
        schema: str = "public",
        prefix: str = "cg:",
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.schema = schema
        self.prefix = prefix
        self._skip_until = 0.0

    # ------------------------------------------------------------------ redis helpers

    async def _redis(self, op: str, *args: Any) -> Any:
        """The answer of a Redis command, or None when Redis is skipped or failing."""
        if self.redis is None or time.monotonic() < self._skip_until:
            return None
        try:
            return await getattr(self.redis, op)(*args)
        except (RedisError, OSError) as exc:
            log.warning(
                "redis read failed; using PostgreSQL",
                extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}},
            )
            self._skip_until = time.monotonic() + SKIP_REDIS_SECONDS
            return None

    async def _user_hash(self, user_id: int) -> dict[str, str] | None:
        raw = await self._redis("hgetall", cache.user_key(self.prefix, user_id))
        if not raw:
            return None
        return {k.decode(): v.decode() for k, v in raw.items()}

    # ------------------------------------------------------------------ BalanceView

    async def balance(self, user_id: int) -> Decimal | None:
        """The user's balance (USD), or None if the ledger has never seen them."""
        cached = await self._user_hash(user_id)
        if cached is not None:
            return queries.to_decimal(cached.get("balance"))
        async with self.pool.acquire() as conn:
            value: Decimal | None = await conn.fetchval(
                f"SELECT balance FROM {quote_schema(self.schema)}.users WHERE user_id = $1",
                user_id,
            )
        return value

    # ------------------------------------------------------------------ user settings

    async def user_settings(self, user_id: int) -> UserSettings | None:
        """The user's default model and personality, or None if the read model has no row."""
        cached = await self._user_hash(user_id)
        if cached is not None:
            # The hash mirrors the whole row, absent fields being NULL columns.
            return UserSettings(
                user_id=user_id,
                default_model=cached.get("default_model"),
                personality=cached.get("personality"),
                thinking=cached.get("thinking"),
                language=cached.get("language"),
                language_code=cached.get("language_code"),
            )
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT default_model, personality, thinking, language, language_code"
                f" FROM {quote_schema(self.schema)}.users"
                " WHERE user_id = $1",
                user_id,
            )
        if row is None:
            return None
        return UserSettings(
            user_id=user_id,
            default_model=row["default_model"],
            personality=row["personality"],
            thinking=row["thinking"],
            language=row["language"],
            language_code=row["language_code"],
        )

    async def preferences(self, user_id: int) -> UserPreferences:
        """The user's preferences (:class:`infra.views.UserReads`); defaults when unknown."""
        cached = await self._user_hash(user_id)
        if cached is not None:
            return UserPreferences(
                cached.get("default_model"),
                cached.get("personality"),
                cached.get("thinking"),
                cached.get("language"),
            )
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT default_model, personality, thinking, language FROM"
                f" {quote_schema(self.schema)}.users WHERE user_id = $1",
                user_id,
            )
        if row is None:
            return UserPreferences()
        return UserPreferences(
            row["default_model"], row["personality"], row["thinking"], row["language"]
        )

    async def user_id_for(self, username: str) -> int | None:
        """The user whose current profile has ``username`` (case-insensitive, without @),
        or None (unknown, or not projected yet)."""
        async with self.pool.acquire() as conn:
            found: int | None = await conn.fetchval(
                f"SELECT user_id FROM {quote_schema(self.schema)}.users"
                " WHERE lower(username) = lower($1)"
                " ORDER BY profile_offset DESC NULLS LAST LIMIT 1",
                username.lstrip("@"),
            )
        return found

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        """The newest ledger operations of a user, newest first."""
        if limit <= queries.OPERATIONS_LIMIT:
            raw = await self._redis("get", cache.ops_key(self.prefix, user_id))
            if raw is not None:
                return [
                    LedgerLine(
                        occurred_at=x.occurred_at,
                        kind=x.kind,
                        amount=x.amount,
                        balance_after=x.balance_after,
                        operation_id=x.operation_id,
                        subject=x.subject,
                        source=x.source,
                        reference=x.reference,
                    )
                    for x in _LINES.decode(raw)[:limit]
                ]
        async with self.pool.acquire() as conn:
            found = await queries.fetch_operations(conn, self.schema, [user_id], limit)
        return found[user_id]

    # ------------------------------------------------------------------ threads

    async def thread(self, thread_key: str) -> ThreadInfo | None:
        """A thread's metadata (title, overrides, last reset), or None if unknown."""
        raw = await self._redis("hgetall", cache.thread_key(self.prefix, thread_key))
        if raw:
            h = {k.decode(): v.decode() for k, v in raw.items()}
            return ThreadInfo(
                thread_key=thread_key,
                chat_id=_int(h.get("chat_id")),
                message_thread_id=_int(h.get("message_thread_id")),
                chat_type=h.get("chat_type"),
                is_forum=_bool(h.get("is_forum")),
                title=h.get("title"),
                model_override=h.get("model_override"),
                personality_override=h.get("personality_override"),
                reset_at=_dt(h.get("reset_at")),
                last_activity_at=_dt(h.get("last_activity_at")),
            )
        async with self.pool.acquire() as conn:
            rows = await queries.fetch_threads(conn, self.schema, [thread_key])
        if not rows:
            return None
        r = rows[0]
        return ThreadInfo(
            thread_key=thread_key,
            chat_id=r["chat_id"],
            message_thread_id=r["message_thread_id"],
            chat_type=r["chat_type"],
            is_forum=r["is_forum"],
            title=r["title"],
            model_override=r["model_override"],
            personality_override=r["personality_override"],
            reset_at=r["reset_at"],
            last_activity_at=r["last_activity_at"],
        )

    async def recent_history(self, thread_key: str, limit: int = 50) -> list[HistoryMessage]:
        """The newest ``limit`` messages since the thread's last reset, oldest first."""
        if limit <= queries.HISTORY_LIMIT:
            raw = await self._redis("get", cache.history_key(self.prefix, thread_key))
            if raw is not None:
                messages = _HISTORY.decode(raw)
                return messages[-limit:] if limit else []
        async with self.pool.acquire() as conn:
            found = await queries.fetch_histories(conn, self.schema, [thread_key], limit)
        return found[thread_key]

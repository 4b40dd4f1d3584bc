"""asyncpg pools and connections, each with timeouts, optionally confined to one schema.

Every pool and connection the project opens comes from here, so none can wait forever on a
hung PostgreSQL: each statement has a command timeout (PostgreSQL cancels it), taking a
connection from a pool has an acquire timeout, and connecting has a connect timeout
(``DB_COMMAND_TIMEOUT``, ``DB_ACQUIRE_TIMEOUT``, ``DB_CONNECT_TIMEOUT``; bulk work such as a
rebuild's ``COPY`` and index builds uses ``DB_BULK_COMMAND_TIMEOUT``). A timeout surfaces as
:class:`StoreTimeout`, one error type callers can handle (a user gets "try again" rather than
a chat that hangs).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import asyncpg

if TYPE_CHECKING:
    from infra.settings import Settings

log = logging.getLogger(__name__)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class StoreTimeout(Exception):
    """A PostgreSQL call ran past its timeout (a statement, waiting for a pooled connection,
    or connecting); the message says which."""


@dataclass(frozen=True, slots=True)
class PgTimeouts:
    """Seconds to wait for PostgreSQL (see the module doc)."""

    command: float = 10.0
    acquire: float = 5.0
    connect: float = 10.0
    bulk_command: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PgTimeouts:
        return cls(
            command=settings.db_command_timeout,
            acquire=settings.db_acquire_timeout,
            connect=settings.db_connect_timeout,
            bulk_command=settings.db_bulk_command_timeout,
        )


DEFAULT_TIMEOUTS: Final = PgTimeouts()
_configured: list[PgTimeouts] = [DEFAULT_TIMEOUTS]


def configure_timeouts(timeouts: PgTimeouts) -> None:
    """Set the timeouts of the pools and connections opened from now on in this process
    (the composition root calls it with the settings' values)."""
    _configured[0] = timeouts


def current_timeouts() -> PgTimeouts:
    return _configured[0]


def quote_schema(schema: str) -> str:
    """A schema name checked against a strict pattern, so it can be spliced into SQL."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return f'"{schema}"'


class TimedPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg has no type hints
    """A pool whose ``acquire`` waits at most the acquire timeout, and whose connections'
    statements time out after the command timeout, both raising :class:`StoreTimeout`."""

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return _TimedAcquire(super().acquire(timeout=timeout or self.acquire_timeout), self)


class _TimedAcquire:
    """``pool.acquire()`` (``async with`` or ``await``) with timeouts as :class:`StoreTimeout`."""

    __slots__ = ("inner", "pool")

    def __init__(self, inner: Any, pool: TimedPool) -> None:
        self.inner = inner
        self.pool = pool

    def _acquire_timeout(self) -> StoreTimeout:
        return StoreTimeout(f"no PostgreSQL connection free within {self.inner.timeout:g} s")

    async def __aenter__(self) -> asyncpg.Connection:
        try:
            conn: asyncpg.Connection = await self.inner.__aenter__()
        except TimeoutError as exc:
            raise self._acquire_timeout() from exc
        return conn

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        await self.inner.__aexit__(exc_type, exc, tb)
        if isinstance(exc, TimeoutError):
            detail = str(exc) or "command timeout"
            raise StoreTimeout(f"PostgreSQL statement timed out ({detail})") from exc

    def __await__(self) -> Any:
        return self._await().__await__()

    async def _await(self) -> asyncpg.Connection:
        try:
            conn: asyncpg.Connection = await self.inner
        except TimeoutError as exc:
            raise self._acquire_timeout() from exc
        return conn


async def connect(
    dsn: str, *, bulk: bool = False, timeouts: PgTimeouts | None = None
) -> asyncpg.Connection:
    """One connection with the connect and command timeouts (the bulk one if ``bulk``)."""
    t = timeouts or current_timeouts()
    try:
        conn: asyncpg.Connection = await asyncpg.connect(
            dsn,
            timeout=t.connect,
            command_timeout=t.bulk_command if bulk else t.command,
            server_settings={"application_name": "claudegram"},
        )
    except TimeoutError as exc:
        raise StoreTimeout(f"cannot connect to PostgreSQL within {t.connect:g} s") from exc
    return conn


UNREACHABLE: Final = (OSError, StoreTimeout, asyncpg.CannotConnectNowError)
"""What connecting raises while PostgreSQL is down, restarting or still starting."""


async def wait_for_database(dsn: str, wait: float, timeouts: PgTimeouts | None = None) -> None:
    """Connect until PostgreSQL answers, backing off up to 10 s, for at most ``wait`` s (the
    ``BROKER_WAIT`` setting, the services' wait for their dependencies): a service restarted
    during a database outage waits for it instead of crash-looping the supervisor."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    delay = 0.5
    while True:
        try:
            conn = await connect(dsn, timeouts=timeouts)
        except UNREACHABLE as exc:
            if loop.time() + delay > deadline:
                raise
            fields = {"error": str(exc) or type(exc).__name__, "retry_in_s": delay}
            log.warning("PostgreSQL unreachable; waiting for it", extra={"fields": fields})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        else:
            await conn.close()
            return


async def create_pool(
    dsn: str,
    *,
    schema: str | None = None,
    min_size: int = 1,
    max_size: int = 10,
    timeouts: PgTimeouts | None = None,
) -> TimedPool:
    """A pool whose connections use ``schema`` (created if missing) as their search path."""
    t = timeouts or current_timeouts()
    server_settings = {"application_name": "claudegram"}
    if schema is not None:
        conn = await connect(dsn, timeouts=t)
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_schema(schema)}")
        finally:
            await conn.close()
        server_settings["search_path"] = schema
    pool = TimedPool(
        dsn,
        acquire_timeout=t.acquire,
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        loop=None,
        timeout=t.connect,
        command_timeout=t.command,
        server_settings=server_settings,
    )
    try:
        await pool
    except TimeoutError as exc:
        raise StoreTimeout(f"cannot connect to PostgreSQL within {t.connect:g} s") from exc
    return pool

"""The thread file store on PostgreSQL large objects (:class:`~actors.thread.file_store.FileStore`).

Why PostgreSQL large objects rather than a directory under the data directory: the thread
worker runs as several processes (on several hosts in production) and a thread moves between
them on every rebalance, so every worker must reach every thread's files; PostgreSQL is
already shared by all of them (no shared volume to provision), a file's bytes and its record
commit in one transaction (a crash leaves neither an orphan blob nor a record without bytes),
and backups and replicas of the database carry the files too. Telegram caps downloads at
20 MB, far below what a large object holds. The store lives in its own schema
(``file_store`` by default) with its own migrations (``infra/files/migrations``): it is not a
read model, so ``botctl replay`` never rebuilds or swaps it.

Layout: ``blobs`` (one large object per distinct SHA-256, shared by every thread that stored
the same bytes) and ``files`` (one row per file of a thread: owner, origin, sanitised name,
MIME type, kind, size, when stored, when its bytes were deleted). Retention
(:meth:`PostgresFileStore.sweep`) marks old rows ``bytes_deleted_at`` and unlinks blobs no
live row uses; rows and the thread's events stay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Final, cast

import asyncpg

from actors.thread.file_store import (
    FileBytesDeleted,
    FileNotFound,
    FileOrigin,
    NewFile,
    StoredFile,
    StoreUnavailable,
    SweepReport,
    content_address,
    file_id_for,
    sanitize_name,
)
from infra.migrations import Migration, migrate
from infra.postgres import StoreTimeout, quote_schema

log = logging.getLogger(__name__)

DEFAULT_SCHEMA: Final = "file_store"
_COLUMNS: Final = (
    "f.file_id::text AS file_id, f.thread_key, f.owner_user_id, f.origin, f.sha256, f.name,"
    " f.mime_type, f.kind, f.size_bytes, f.created_at, f.bytes_deleted_at"
)


def store_migrations() -> list[Migration]:
    folder = resources.files("infra.files.migrations")
    found = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in found]


def _stored(row: asyncpg.Record) -> StoredFile:
    return StoredFile(
        file_id=row["file_id"],
        thread_key=row["thread_key"],
        owner_user_id=row["owner_user_id"],
        origin=cast(FileOrigin, row["origin"]),
        sha256=row["sha256"],
        name=row["name"],
        mime_type=row["mime_type"],
        kind=row["kind"],
        size_bytes=row["size_bytes"],
        created_at=row["created_at"],
        bytes_deleted_at=row["bytes_deleted_at"],
    )


class PostgresFileStore:
    """:class:`~actors.thread.file_store.FileStore` on a pool (see the module docstring).

    PostgreSQL errors and timeouts surface as :class:`StoreUnavailable`."""

    def __init__(self, pool: asyncpg.Pool, *, schema: str = DEFAULT_SCHEMA) -> None:
        self._pool = pool
        self._schema = quote_schema(schema)
        self._schema_name = schema

    async def migrate(self) -> list[str]:
        """Create or update the store's schema (idempotent; safe from several processes)."""
        async with self._pool.acquire() as conn:
            return await migrate(conn, self._schema_name, store_migrations())

    # ------------------------------------------------------------------ writes

    async def put(self, new: NewFile, data: bytes) -> StoredFile:
        sha = content_address(data)
        file_id = file_id_for(new.thread_key, new.origin, sha)
        name = sanitize_name(new.name, f"{new.kind}.bin")
        s = self._schema
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await self._ensure_blob(conn, sha, data)
                row = await conn.fetchrow(
                    f"INSERT INTO {s}.files AS f (file_id, thread_key, owner_user_id, origin,"
                    " sha256, name, mime_type, kind, size_bytes)"
                    " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9)"
                    " ON CONFLICT (file_id) DO UPDATE SET bytes_deleted_at = NULL"
                    f" RETURNING {_COLUMNS}",
                    file_id,
                    new.thread_key,
                    new.owner_user_id,
                    new.origin,
                    sha,
                    name,
                    new.mime_type,
                    new.kind,
                    len(data),
                )
        except (asyncpg.PostgresError, OSError, StoreTimeout, TimeoutError) as exc:
            raise StoreUnavailable(f"the file store is unavailable: {exc}") from exc
        assert row is not None
        return _stored(row)

    async def _ensure_blob(self, conn: asyncpg.Connection, sha: str, data: bytes) -> None:
        """The blob of ``sha`` exists with its bytes (written once; re-written only when
        retention had deleted them)."""
        s = self._schema
        row = await conn.fetchrow(f"SELECT oid FROM {s}.blobs WHERE sha256 = $1 FOR UPDATE", sha)
        if row is not None and row["oid"] is not None:
            return
        oid = await conn.fetchval("SELECT lo_from_bytea(0, $1)", data)
        if row is not None:
            await conn.execute(f"UPDATE {s}.blobs SET oid = $2 WHERE sha256 = $1", sha, oid)
            return
        inserted = await conn.fetchval(
            f"INSERT INTO {s}.blobs (sha256, oid, size_bytes) VALUES ($1, $2, $3)"
            " ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
            sha,
            oid,
            len(data),
        )
        if inserted is None:  # a concurrent put stored the same bytes first
            await conn.execute("SELECT lo_unlink($1)", oid)
            await conn.execute(
                f"UPDATE {s}.blobs SET oid = $2 WHERE sha256 = $1 AND oid IS NULL", sha, oid
            )

    # ------------------------------------------------------------------ reads

    async def _fetch(
        self, conn: asyncpg.Connection, file_id: str, thread_key: str, user_id: int
    ) -> tuple[StoredFile, int | None]:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS}, b.oid"
            f" FROM {self._schema}.files f JOIN {self._schema}.blobs b USING (sha256)"
            " WHERE f.file_id::text = $1 AND f.thread_key = $2 AND f.owner_user_id = $3",
            file_id,
            thread_key,
            user_id,
        )
        if row is None:
            raise FileNotFound(file_id)
        return _stored(row), row["oid"]

    async def get(self, file_id: str, *, thread_key: str, user_id: int) -> StoredFile:
        try:
            async with self._pool.acquire() as conn:
                stored, _ = await self._fetch(conn, file_id, thread_key, user_id)
        except (asyncpg.PostgresError, OSError, StoreTimeout, TimeoutError) as exc:
            raise StoreUnavailable(f"the file store is unavailable: {exc}") from exc
        return stored

    async def read(self, file_id: str, *, thread_key: str, user_id: int) -> bytes:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                stored, oid = await self._fetch(conn, file_id, thread_key, user_id)
                if not stored.available or oid is None:
                    raise FileBytesDeleted(stored)
                data = await conn.fetchval("SELECT lo_get($1)", oid)
        except (asyncpg.PostgresError, OSError, StoreTimeout, TimeoutError) as exc:
            raise StoreUnavailable(f"the file store is unavailable: {exc}") from exc
        return bytes(data)

    async def list(self, *, thread_key: str, user_id: int | None = None) -> list[StoredFile]:
        query = f"SELECT {_COLUMNS} FROM {self._schema}.files f WHERE thread_key = $1"
        args: list[Any] = [thread_key]
        if user_id is not None:
            query += " AND owner_user_id = $2"
            args.append(user_id)
        try:
            async with self._pool.acquire() as conn:
                rows = await conn.fetch(query + " ORDER BY created_at, file_id", *args)
        except (asyncpg.PostgresError, OSError, StoreTimeout, TimeoutError) as exc:
            raise StoreUnavailable(f"the file store is unavailable: {exc}") from exc
        return [_stored(r) for r in rows]

    # ------------------------------------------------------------------ retention

    async def sweep(self, *, stored_before: datetime) -> SweepReport:
        s = self._schema
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                marked = await conn.fetchval(
                    "WITH m AS ("
                    f" UPDATE {s}.files SET bytes_deleted_at = now()"
                    " WHERE bytes_deleted_at IS NULL AND created_at < $1 RETURNING 1)"
                    " SELECT count(*) FROM m",
                    stored_before,
                )
                orphans = await conn.fetch(
                    f"SELECT sha256, oid, size_bytes FROM {s}.blobs b WHERE oid IS NOT NULL"
                    f" AND NOT EXISTS (SELECT 1 FROM {s}.files f"
                    "  WHERE f.sha256 = b.sha256 AND f.bytes_deleted_at IS NULL)"
                    " FOR UPDATE"
                )
                for blob in orphans:
                    await conn.execute("SELECT lo_unlink($1)", blob["oid"])
                await conn.execute(
                    f"UPDATE {s}.blobs SET oid = NULL WHERE sha256 = ANY($1::text[])",
                    [b["sha256"] for b in orphans],
                )
        except (asyncpg.PostgresError, OSError, StoreTimeout, TimeoutError) as exc:
            raise StoreUnavailable(f"the file store is unavailable: {exc}") from exc
        return SweepReport(
            files=int(marked or 0),
            blobs=len(orphans),
            bytes_freed=sum(int(b["size_bytes"]) for b in orphans),
        )


async def sweep_forever(
    store: PostgresFileStore,
    retention_days: float,
    *,
    every: float = 3600.0,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Run :meth:`PostgresFileStore.sweep` every ``every`` seconds with the cut-off
    ``retention_days`` before now (the worker's retention task)."""
    clock = now
    while True:
        try:
            report = await store.sweep(stored_before=clock() - timedelta(days=retention_days))
            if report.files:
                log.info(
                    "file retention sweep",
                    extra={
                        "fields": {
                            "files": report.files,
                            "blobs": report.blobs,
                            "bytes": report.bytes_freed,
                        }
                    },
                )
        except StoreUnavailable as exc:
            log.warning("file retention sweep failed: %s", exc)
        await asyncio.sleep(every)

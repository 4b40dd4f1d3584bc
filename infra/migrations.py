"""Applying the versioned SQL migrations in ``projections/migrations`` to a schema.

Each file is applied once, in name order, inside its own transaction, and recorded with its
checksum; an applied file whose content later changed is an error, never silently re-run.
A transaction-level advisory lock keeps concurrent migrators from racing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import asyncpg

from infra.postgres import quote_schema

_LOCK_ID = 0x6D696772  # "migr"


class MigrationError(Exception):
    """An applied migration changed, or one failed; the message names the file."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def bundled_migrations() -> list[Migration]:
    folder = resources.files("projections.migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def migrate(
    conn: asyncpg.Connection, schema: str, migrations: list[Migration] | None = None
) -> list[str]:
    """Apply pending migrations to ``schema`` (created if missing); answers those applied."""
    migrations = bundled_migrations() if migrations is None else migrations
    quoted = quote_schema(schema)
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quoted}.schema_migrations ("
            " version text PRIMARY KEY, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = await conn.fetch(f"SELECT version, checksum FROM {quoted}.schema_migrations")
        done = {r["version"]: r["checksum"] for r in rows}
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version} changed after it was applied to "
                        f"{schema}; add a new migration instead"
                    )
                continue
            await conn.execute(f"SET LOCAL search_path TO {quoted}")
            try:
                await conn.execute(migration.sql)
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"migration {migration.version} failed: {exc}") from exc
            await conn.execute(
                f"INSERT INTO {quoted}.schema_migrations (version, checksum) VALUES ($1, $2)",
                migration.version,
                migration.checksum,
            )
            applied_now.append(migration.version)
    return applied_now

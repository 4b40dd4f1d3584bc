"""The SQL migration runner against the real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from infra.endpoints import Endpoints
from infra.migrations import Migration, MigrationError, bundled_migrations, migrate


async def test_bundled_migrations_apply_once(stack: Endpoints, pg_schema: str) -> None:
    """The project's migrations apply to a fresh schema, and a second run applies nothing."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        first = await migrate(conn, pg_schema)
        assert first == [m.version for m in bundled_migrations()]
        assert await migrate(conn, pg_schema) == []
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
            pg_schema,
        )
        assert "projection_positions" in {r["table_name"] for r in tables}
    finally:
        await conn.close()


async def test_changed_migration_is_refused(stack: Endpoints) -> None:
    """An applied migration whose text changed is reported by name, not re-run."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        schema = "t_migration_changed"
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await migrate(conn, schema, [Migration("0001_a", "CREATE TABLE a (x int);")])
        with pytest.raises(MigrationError, match="0001_a changed"):
            await migrate(conn, schema, [Migration("0001_a", "CREATE TABLE a (y int);")])
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_applied(stack: Endpoints) -> None:
    """A migration with an SQL error is reported with its name and rolled back whole."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        schema = "t_migration_failed"
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        with pytest.raises(MigrationError, match="0002_bad failed"):
            await migrate(
                conn,
                schema,
                [Migration("0001_ok", "CREATE TABLE ok (x int);"), Migration("0002_bad", "NOPE;")],
            )
        exists = await conn.fetchval(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema
        )
        assert exists == 0
    finally:
        await conn.close()

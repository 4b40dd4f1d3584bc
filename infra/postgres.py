"""asyncpg connection pools, optionally confined to one schema."""

from __future__ import annotations

import re

import asyncpg

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quote_schema(schema: str) -> str:
    """A schema name checked against a strict pattern, so it can be spliced into SQL."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return f'"{schema}"'


async def create_pool(
    dsn: str, *, schema: str | None = None, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool whose connections use ``schema`` (created if missing) as their search path."""
    server_settings = {"application_name": "claudegram"}
    if schema is not None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_schema(schema)}")
        finally:
            await conn.close()
        server_settings["search_path"] = schema
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, server_settings=server_settings
    )
    assert pool is not None
    return pool

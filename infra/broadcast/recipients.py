"""Every known user: the recipients of an announcement to everyone, from the ``users`` read
model (users the projector has not applied yet are not listed)."""

from __future__ import annotations

import asyncpg

from infra.postgres import quote_schema


async def known_user_ids(pool: asyncpg.Pool, schema: str) -> list[int]:
    """Ids of every user who is not a bot, ascending."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT user_id FROM {quote_schema(schema)}.users "
            "WHERE is_bot IS NOT TRUE ORDER BY user_id"
        )
    return [int(row["user_id"]) for row in rows]

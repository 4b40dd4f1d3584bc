"""ReadModelViews (user settings, preferences, usernames) on the real projector, PostgreSQL
and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest_asyncio
from projection_helpers import create_topics, produce, projecting

from actors.thread.models import OPUS, SONNET
from events import billing, catalog, users
from events.envelope import Envelope, new_envelope
from events.ids import new_id
from events.keys import user_key
from events.messages import TelegramUser
from infra.billing.views import UsernameDirectory
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.postgres import create_pool
from infra.projector.views import ReadModelViews, UserSettings
from infra.redis_store import create_redis
from infra.views import UserPreferences

PIRATE = 6_100_001  # registered, then changed model and personality
PAYER = 6_100_002  # the ledger has seen them, the users projection has not


def _env(uid: int, producer: str) -> Any:
    return new_envelope(key=user_key(uid), producer=producer)


def _records() -> list[tuple[Any, Envelope]]:
    return [
        (
            catalog.USERS_EVENTS,
            users.UserRegistered(
                **_env(PIRATE, "users-actor"),
                profile=TelegramUser(user_id=PIRATE, first_name="Anne", username="Anne_Bonny"),
                default_model=SONNET,
            ),
        ),
        (
            catalog.USERS_EVENTS,
            users.ModelChanged(
                **_env(PIRATE, "users-actor"), user_id=PIRATE, model=OPUS, previous_model=SONNET
            ),
        ),
        (
            catalog.USERS_EVENTS,
            users.PersonalityChanged(
                **_env(PIRATE, "users-actor"), user_id=PIRATE, personality="Talk like a pirate."
            ),
        ),
        (
            catalog.BILLING_LEDGER,
            billing.StarterCreditGranted(
                **_env(PAYER, "billing"),
                operation_id=f"starter:{PAYER}",
                user_id=PAYER,
                amount=Decimal("1.00"),
                balance_after=Decimal("1.00"),
                command_id=new_id(),
                command_digest="0" * 16,
            ),
        ),
    ]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def projected(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str
) -> AsyncIterator[str]:
    """The records above projected by a running projector; yields the cache key prefix."""
    prefix = f"v{uuid.uuid4().hex[:8]}."
    cache_prefix = f"{pg_schema}:"
    await create_topics(stack, prefix)
    items = _records()
    await produce(stack, broker_profile, prefix, items)
    async with projecting(
        stack, broker_profile, prefix, pg_schema, items, cache_prefix=cache_prefix
    ):
        yield cache_prefix


async def test_user_settings_from_redis_then_postgresql(
    stack: Endpoints, pg_schema: str, projected: str
) -> None:
    """Settings come from the projector's Redis hash; without it, from PostgreSQL; a user
    the ledger knows but the users projection does not has no model yet; a stranger, None."""
    redis = create_redis(stack.redis_url)
    pool = await create_pool(stack.database_url)
    views = ReadModelViews(pool, redis, schema=pg_schema, prefix=projected)
    no_cache = ReadModelViews(pool, None, schema=pg_schema)
    expected = UserSettings(PIRATE, OPUS, "Talk like a pirate.")
    try:
        key = f"{projected}user:{PIRATE}"
        for _ in range(100):  # the cache is written just after the commit, then re-warmed
            if await redis.hget(key, "personality") and await redis.exists(f"{projected}epoch"):
                break
            await asyncio.sleep(0.1)
        assert await views.user_settings(PIRATE) == expected
        assert await no_cache.user_settings(PIRATE) == expected
        # Redis is read first: a (hypothetically) different cached value is what it answers.
        await redis.hset(key, "default_model", SONNET)
        assert (await views.user_settings(PIRATE)) == UserSettings(
            PIRATE, SONNET, "Talk like a pirate."
        )
        await redis.delete(key)
        assert await views.user_settings(PIRATE) == expected
        assert await views.user_settings(PAYER) == UserSettings(PAYER, None, None)
        assert await no_cache.user_settings(PAYER) == UserSettings(PAYER, None, None)
        assert await views.user_settings(6_199_999) is None
    finally:
        await pool.close()
        await redis.aclose()


async def test_preferences_and_usernames_come_from_the_read_model(
    stack: Endpoints, pg_schema: str, projected: str
) -> None:
    """The read port answers a user's preferences from the users row (defaults for a
    stranger), and /topup's directory finds a user by @username, case-insensitively, with
    one query of the read model (no fold of bot.users.events)."""
    pool = await create_pool(stack.database_url)
    views = ReadModelViews(pool, None, schema=pg_schema)
    directory = UsernameDirectory(views)
    try:
        assert await views.preferences(PIRATE) == UserPreferences(OPUS, "Talk like a pirate.")
        assert await views.preferences(6_199_999) == UserPreferences()
        assert await directory.user_id("@anne_bonny") == PIRATE
        assert await directory.user_id("ANNE_BONNY") == PIRATE
        assert await directory.user_id("@nobody_here") is None
    finally:
        await directory.close()
        await pool.close()

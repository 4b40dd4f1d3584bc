"""The Redis client factory. Redis is an accelerator: callers must work when it is down."""

from __future__ import annotations

import redis.asyncio as aioredis


def create_redis(url: str) -> aioredis.Redis:
    return aioredis.from_url(
        url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=30
    )

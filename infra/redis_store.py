"""The Redis client factory. Redis is an accelerator: callers must work when it is down.

Every client has connect and socket timeouts (``REDIS_SOCKET_TIMEOUT``, default 1 s), so a
hung Redis costs a caller at most that long; the caller then answers from PostgreSQL.
"""

from __future__ import annotations

from typing import Final

import redis.asyncio as aioredis

DEFAULT_SOCKET_TIMEOUT: Final = 1.0
_configured: list[float] = [DEFAULT_SOCKET_TIMEOUT]


def configure_socket_timeout(seconds: float) -> None:
    """The socket timeout of the clients created from now on in this process."""
    _configured[0] = seconds


def create_redis(url: str, *, socket_timeout: float | None = None) -> aioredis.Redis:
    timeout = socket_timeout or _configured[0]
    return aioredis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, health_check_interval=30
    )

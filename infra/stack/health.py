"""Readiness checks of the three services, through the same client libraries the app uses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import asyncpg
import redis.asyncio as aioredis
from aiokafka.client import AIOKafkaClient

from infra.kafka.compat import probe_cluster_id

Check: TypeAlias = Callable[[], Awaitable[str]]


async def kafka_ready(bootstrap_servers: str) -> str:
    """Answers the cluster id."""
    return await probe_cluster_id(bootstrap_servers, timeout=2.0)


async def kafka_coordinator_ready(bootstrap_servers: str) -> str:
    """Answers the cluster id once the broker also coordinates consumer groups: a fresh
    Apache Kafka creates its offsets topic on the first group lookup, and a service joining
    a group before that waits in retries; the stack is ready only after it."""
    cluster_id = await kafka_ready(bootstrap_servers)
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
    try:
        await client.bootstrap()
        await client.coordinator_lookup(0, "claudegram-stack-ready")  # 0: a consumer group
    finally:
        await client.close()
    return cluster_id


async def postgres_ready(dsn: str) -> str:
    conn = await asyncpg.connect(dsn, timeout=2.0, command_timeout=2.0)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return f"PostgreSQL {version}"
    finally:
        await conn.close()


async def redis_ready(url: str) -> str:
    client = aioredis.from_url(url, socket_connect_timeout=2.0, socket_timeout=2.0)
    try:
        info = await client.info("server")
        return f"Redis {info.get('redis_version', '?')}"
    finally:
        await client.aclose()


async def wait_until(check: Check, timeout: float, *, still_running: Callable[[], bool]) -> str:
    """Retry ``check`` until it answers, the process dies, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if not still_running():
            raise RuntimeError("the process exited while starting")
        try:
            return await check()
        except Exception as exc:
            last = exc
        await asyncio.sleep(0.1)
    raise TimeoutError(f"not ready after {timeout:.0f}s ({last})")

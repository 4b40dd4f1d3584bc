"""Session-wide real services for the tests, and per-test isolation.

By default the embedded stack (Apache Kafka, PostgreSQL, Redis as child processes) is started
once per session and its data deleted at the end (``EMBEDDED_BROKER=tansu`` runs the suite on
Tansu instead). Tests keep to their own topics (``topic_prefix``) and schemas (``pg_schema``).
With ``KAFKA_BOOTSTRAP_SERVERS``, ``DATABASE_URL`` and ``REDIS_URL`` set, those are used instead;
with ``TEST_STACK=docker`` and a reachable Docker engine, testcontainers starts Apache Kafka,
PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import re
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from infra.endpoints import Endpoints, configured_endpoints
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.postgres import quote_schema
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack

# The emulator fixtures (telegram_emulator, claude_emulator, telegram_bot, anthropic_client),
# one server of each for the whole session, reset before every test.
pytest_plugins = ["devkit.emulators.testing"]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (a timeout, a CI cancel) ends the run like Ctrl-C, so session fixtures still
    tear down and the embedded stack's processes are stopped rather than left behind."""
    signal.signal(signal.SIGTERM, _interrupt)


def _docker_endpoints() -> tuple[Endpoints, list[object]]:
    from testcontainers.kafka import KafkaContainer  # type: ignore[import-not-found]
    from testcontainers.postgres import PostgresContainer  # type: ignore[import-not-found]
    from testcontainers.redis import RedisContainer  # type: ignore[import-not-found]

    kafka = KafkaContainer().with_kraft()
    postgres = PostgresContainer("postgres:16")
    redis = RedisContainer()
    for c in (kafka, postgres, redis):
        c.start()
    pg_url = postgres.get_connection_url().replace("+psycopg2", "")
    redis_url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
    return Endpoints(kafka.get_bootstrap_server(), pg_url, redis_url, embedded=False), [
        kafka,
        postgres,
        redis,
    ]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    """The three real services, started once for the whole session."""
    import asyncio

    configured = configured_endpoints(load_settings())
    if configured is not None:
        yield configured
        return
    if os.environ.get("TEST_STACK") == "docker":
        endpoints, containers = _docker_endpoints()
        yield endpoints
        for c in containers:
            c.stop()  # type: ignore[attr-defined]
        return
    embedded = EmbeddedStack(tmp_path_factory.mktemp("stack"))
    try:
        state = asyncio.run(embedded.start())
        yield Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, embedded=True)
    finally:
        embedded.reset()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def broker_profile(stack: Endpoints) -> BrokerProfile:
    """How the code must talk to the test broker (Tansu workarounds or not)."""
    return await probe_broker(stack.kafka_bootstrap, os.environ.get("BROKER_COMPAT", "auto"))


@pytest.fixture
def topic_prefix() -> str:
    """A prefix unique to one test, so topics never leak between tests."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pg_schema(stack: Endpoints, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A PostgreSQL schema private to one test module, dropped afterwards."""
    module = re.sub(r"[^a-z0-9_]", "_", Path(str(request.path)).stem.lower())[:40]
    schema = f"t_{module}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {quote_schema(schema)}")
    finally:
        await conn.close()
    yield schema
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(schema)} CASCADE")
    finally:
        await conn.close()

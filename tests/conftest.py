"""Session-wide real services for the tests, and per-test isolation.

By default the embedded stack (Apache Kafka, PostgreSQL, Redis as child processes) is started
once per session and its data deleted at the end (``EMBEDDED_BROKER=tansu`` runs the suite on
Tansu instead). Tests keep to their own topics (``topic_prefix``) and schemas (``pg_schema``).
With ``KAFKA_BOOTSTRAP_SERVERS``, ``DATABASE_URL`` and ``REDIS_URL`` set, those are used instead;
with ``TEST_STACK=docker`` and a reachable Docker engine, testcontainers starts Apache Kafka,
PostgreSQL and Redis.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from infra.bootstrap import Root
from infra.endpoints import Endpoints, configured_endpoints
from infra.kafka.compat import BrokerProfile
from infra.postgres import quote_schema
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack

# The emulator fixtures (telegram_emulator, claude_emulator, telegram_bot, anthropic_client),
# one server of each for the whole session, reset before every test.
pytest_plugins = ["devkit.emulators.testing"]

SHARED_STACK_VARIABLE = "CLAUDEGRAM_TEST_SHARED_STACK"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (a timeout, a CI cancel) ends the run like Ctrl-C, so session fixtures still
    tear down and the embedded stack's processes are stopped rather than left behind.

    Under pytest-xdist (``-n N``) the workers share one embedded stack: the first worker that
    needs it starts it in a folder the controller names (its processes outlive that worker),
    the others attach to it, and the controller deletes it when the run ends. So N workers
    use one broker, one PostgreSQL and one Redis (tests keep to their own topics, schemas and
    keys), and a run that needs no stack starts none."""
    signal.signal(signal.SIGTERM, _interrupt)
    workers = getattr(config.option, "numprocesses", None)
    if workers and not hasattr(config, "workerinput"):
        shared = Path(tempfile.mkdtemp(prefix="claudegram-test-stack-"))
        os.environ[SHARED_STACK_VARIABLE] = str(shared)

        def delete_shared_stack() -> None:
            EmbeddedStack(shared / "stack").reset()
            shutil.rmtree(shared, ignore_errors=True)

        config.add_cleanup(delete_shared_stack)


def _shared_stack(shared: Path) -> Endpoints:
    """The stack shared by the xdist workers: started by whichever asks first."""
    import asyncio

    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        urls = shared / "urls.json"
        if not urls.exists():
            state = asyncio.run(EmbeddedStack(shared / "stack").start())
            urls.write_text(
                json.dumps([state.kafka_bootstrap, state.database_url, state.redis_url])
            )
        kafka, database, redis = json.loads(urls.read_text())
    return Endpoints(kafka, database, redis, embedded=True)


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
    shared = os.environ.get(SHARED_STACK_VARIABLE)
    if shared is not None:  # an xdist worker: the stack outlives it, the controller deletes it
        yield _shared_stack(Path(shared))
        return
    embedded = EmbeddedStack(tmp_path_factory.mktemp("stack"))
    try:
        state = asyncio.run(embedded.start())
        yield Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, embedded=True)
    finally:
        embedded.reset()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def root(stack: Endpoints) -> AsyncIterator[Root]:
    """The tests' composition root: the session's stack and settings, the broker probed once
    (what a test builds from it is closed at the end of the session)."""
    root = Root(load_settings(), stack)
    yield root
    await root.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def broker_profile(root: Root) -> BrokerProfile:
    """How the code must talk to the test broker (Tansu workarounds or not)."""
    return await root.profile()


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

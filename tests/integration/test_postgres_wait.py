"""A service started while PostgreSQL is unreachable waits for it (the projector's start
found by the chaos suite: it exited four times during an outage and stopped the bot)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from urllib.parse import urlsplit, urlunsplit

import pytest

from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.postgres import wait_for_database
from infra.settings import load_settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def _forward_later(port: int, host: str, target: int, after: float) -> asyncio.Server:
    """A TCP forwarder to the real PostgreSQL that starts listening only after ``after`` s."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, target)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    await asyncio.sleep(after)
    return await asyncio.start_server(serve, "127.0.0.1", port)


async def test_the_wait_ends_when_postgres_becomes_reachable(
    stack: Endpoints, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL answers only after 2 s: the wait logs each retry and returns once it
    connects."""
    url = urlsplit(stack.database_url)
    assert url.hostname is not None
    assert url.port is not None
    port = _free_port()
    late = url._replace(
        netloc=url.netloc.replace(f"{url.hostname}:{url.port}", f"127.0.0.1:{port}")
    )
    opener = asyncio.create_task(_forward_later(port, url.hostname, url.port, 2.0))
    with caplog.at_level(logging.WARNING, logger="infra.postgres"):
        await wait_for_database(urlunsplit(late), 120)
    server = await opener
    server.close()
    retries = [r for r in caplog.records if "PostgreSQL unreachable" in r.getMessage()]
    assert len(retries) >= 2


async def test_the_wait_gives_up_after_its_limit() -> None:
    """Nothing ever answers: the wait raises the connection error once its time is up."""
    dead = f"postgresql://nobody@127.0.0.1:{_free_port()}/nothing"
    with pytest.raises(OSError):
        await wait_for_database(dead, 1.0)


async def test_a_service_root_waits_for_postgres_before_its_pool(
    stack: Endpoints, caplog: pytest.LogCaptureFixture
) -> None:
    """``Root.pg_pool()``, what every service's start asks for its read views, waits while
    PostgreSQL is unreachable and then gives a working pool (the payments service and the
    gateway exited at start during an outage and stopped the bot: found by the chaos run)."""
    url = urlsplit(stack.database_url)
    assert url.hostname is not None
    assert url.port is not None
    port = _free_port()
    late = url._replace(
        netloc=url.netloc.replace(f"{url.hostname}:{url.port}", f"127.0.0.1:{port}")
    )
    endpoints = Endpoints(
        kafka_bootstrap=stack.kafka_bootstrap,
        database_url=urlunsplit(late),
        redis_url=stack.redis_url,
        embedded=False,
    )
    root = Root(load_settings({"BROKER_WAIT": "120"}), endpoints)
    opener = asyncio.create_task(_forward_later(port, url.hostname, url.port, 2.0))
    try:
        with caplog.at_level(logging.WARNING, logger="infra.postgres"):
            pool = await root.pg_pool()
        assert await pool.fetchval("SELECT 41 + 1") == 42
    finally:
        await root.close()
        (await opener).close()
    assert [r for r in caplog.records if "PostgreSQL unreachable" in r.getMessage()]

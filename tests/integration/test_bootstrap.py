"""The composition root on the real stack: the broker probed once, each topic ensured once,
and a libpq unix-socket DATABASE_URL reaching the embedded PostgreSQL."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import asyncpg
import pytest

from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, USERS_EVENTS
from infra.bootstrap import Root
from infra.endpoints import Endpoints
from infra.postgres import connect
from infra.settings import load_settings


async def test_the_broker_is_probed_once_per_root(stack: Endpoints) -> None:
    """Concurrent and later requests of the broker profile share the one probe's answer."""
    root = Root(load_settings(), stack)
    first, *others = await asyncio.gather(*(root.profile() for _ in range(5)))
    assert all(p is first for p in others)
    assert await root.profile() is first
    assert first.cluster_id


async def test_each_topic_is_ensured_once_per_root(stack: Endpoints, topic_prefix: str) -> None:
    """A second service asking for topics already ensured in the process costs nothing; a new
    process (root) finds them created."""
    root = Root(load_settings(), stack)
    specs = [USERS_EVENTS, BILLING_COMMANDS, BILLING_LEDGER]
    names = sorted(topic_prefix + s.name for s in specs)
    first = await root.ensure_topics(specs, name_prefix=topic_prefix)
    assert sorted(first.created) == names
    again = await root.ensure_topics(specs[:2], name_prefix=topic_prefix)
    assert (again.created, again.verified, again.mismatches) == ([], [], [])
    other = await Root(load_settings(), stack).ensure_topics(specs, name_prefix=topic_prefix)
    assert (other.created, sorted(other.verified), other.ok) == ([], names, True)


async def test_a_unix_socket_database_url_connects(stack: Endpoints) -> None:
    """``postgresql://user@/db?host=/socket/folder`` is a DATABASE_URL the services connect
    with (to the embedded PostgreSQL's unix socket)."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        folders = await conn.fetchval("SHOW unix_socket_directories")
        port = await conn.fetchval("SHOW port")
        user = await conn.fetchval("SELECT current_user")
        database = await conn.fetchval("SELECT current_database()")
    finally:
        await conn.close()
    folder = next((f.strip() for f in str(folders).split(",") if f.strip()), "")
    if not folder.startswith("/"):
        pytest.skip(f"this PostgreSQL has no unix socket folder ({folders!r})")
    url = f"postgresql://{user}@/{database}?host={quote(folder, safe='/')}&port={port}"
    settings = load_settings({"DATABASE_URL": url})
    assert settings.database_url is not None
    socket_conn = await connect(settings.database_url.reveal())
    try:
        assert await socket_conn.fetchval("SELECT inet_server_addr()") is None  # not over TCP
        assert await socket_conn.fetchval("SELECT current_user") == user
    finally:
        await socket_conn.close()

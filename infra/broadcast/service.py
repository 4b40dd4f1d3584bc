"""``botctl broadcaster``: the one process that sends owners' confirmed announcements.

One broadcaster sends at a time, however many are started: each holds a PostgreSQL
advisory lock (named by the topic prefix) while it works, and a second one waits for it. A
broadcaster killed with -9 loses its connection, so the lock is free for the next one at
once. When the lock's connection is lost (PostgreSQL restarted) the broadcaster stops
sending, waits for its in-flight sends to be recorded, and takes the lock again.

Holding the lock, it folds ``bot.admin.events`` and ``bot.broadcast.events`` to their end
(:mod:`actors.broadcast.book`), runs every confirmed, unfinished announcement to the end
(:mod:`infra.broadcast.sender`: a crash anywhere resumes from the log, nobody is sent to
twice), then follows the admin topic for new confirmations. Any failure (the broker or
PostgreSQL away) ends the round: after a pause it folds again and goes on where the log
says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from actors.broadcast.book import BroadcastBook
from events.catalog import ADMIN_EVENTS, BROADCAST_EVENTS
from infra.bootstrap import Root
from infra.broadcast.log import fold_book, follow_admin
from infra.broadcast.recipients import known_user_ids
from infra.broadcast.sender import Sender
from infra.kafka.clients import make_consumer
from infra.kafka.publisher import EventPublisher
from infra.postgres import connect
from infra.service_health import startup_condition

log = logging.getLogger(__name__)

READY = startup_condition("broadcaster")
"""Met on ``/readyz`` while this broadcaster holds the lock and has folded the log."""
LOCK_POLL_S = 1.0
RETRY_PAUSE_S = 2.0


@contextlib.asynccontextmanager
async def broadcaster_lock(
    database_url: str, name: str, stop: asyncio.Event
) -> AsyncIterator[asyncio.Event | None]:
    """Hold the advisory lock ``name``; yields an event set when the lock's connection is
    lost, or None when ``stop`` came first."""
    conn: asyncpg.Connection = await connect(database_url)
    lost = asyncio.Event()
    conn.add_termination_listener(lambda _conn: lost.set())
    try:
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", name):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LOCK_POLL_S):
                    await stop.wait()
            if stop.is_set():
                yield None
                return
        yield lost
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def _until(*events: asyncio.Event, also: asyncio.Future[None] | None = None) -> None:
    """Until one of ``events`` is set (or ``also`` is done)."""
    waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait([*waits, *([also] if also else [])], return_when="FIRST_COMPLETED")
    finally:
        for w in waits:
            w.cancel()


async def run_rounds(root: Root, stop: asyncio.Event, lost: asyncio.Event) -> None:
    """Fold, send every runnable announcement, follow for new ones, until ``stop`` or
    ``lost``."""
    prefix = root.settings.topic_prefix
    halt = asyncio.Event()
    relay = asyncio.ensure_future(_relay(halt, stop, lost))
    consumer = make_consumer(root.bootstrap, await root.profile(), [], group_id=None)
    await consumer.start()
    try:
        book, positions = await fold_book(consumer, prefix)
        if root.readiness is not None:
            root.readiness.met(READY)
        publisher = EventPublisher(await root.producer(), topic_prefix=prefix)
        pool = await root.pg_pool()
        schema = root.settings.read_schema
        settings = root.settings
        sender = Sender(
            root.bot(),
            publisher,
            book,
            lambda: known_user_ids(pool, schema),
            in_flight=settings.broadcast_in_flight,
            sends_per_second=settings.broadcast_sends_per_second,
            progress_every=settings.broadcast_progress_every,
        )
        wake = asyncio.Event()
        follower = asyncio.ensure_future(_follow(consumer, positions, book, wake))
        try:
            while not halt.is_set():
                for ann in book.runnable():
                    if halt.is_set():
                        break
                    await sender.run(ann, halt)
                wake.clear()
                if not book.runnable():
                    await _until(wake, halt, also=follower)
                if follower.done():
                    follower.result()  # raises what ended it
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower
    finally:
        relay.cancel()
        await consumer.stop()  # with the broker gone too (infra.kafka.clients.Consumer)


async def _relay(halt: asyncio.Event, *sources: asyncio.Event) -> None:
    await _until(*sources)
    halt.set()


async def _follow(
    consumer: AIOKafkaConsumer,
    positions: dict[TopicPartition, int],
    book: BroadcastBook,
    wake: asyncio.Event,
) -> None:
    async for record in follow_admin(consumer, positions):
        book.apply(record)
        wake.set()


async def run_broadcaster(root: Root, stop: asyncio.Event) -> None:
    """Run the broadcaster until ``stop`` is set (``botctl broadcaster``)."""
    prefix = root.settings.topic_prefix
    report = await root.ensure_topics((ADMIN_EVENTS, BROADCAST_EVENTS), name_prefix=prefix)
    for mismatch in report.mismatches:
        log.warning("topic differs from the catalog: %s", mismatch)
    while not stop.is_set():
        try:
            async with broadcaster_lock(
                root.endpoints.database_url, f"claudegram-broadcaster:{prefix}", stop
            ) as lost:
                if lost is None:
                    return
                await run_rounds(root, stop, lost)
        except Exception:
            log.exception("broadcaster round failed; folding again after a pause")
        if root.readiness is not None:
            root.readiness.require(READY, "taking the lock and folding the log again")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RETRY_PAUSE_S):
                await stop.wait()

"""The live projector: consume the input topics, apply batches exactly once, fill the caches.

One process owns a set of partitions (all of them, or the partitions ``p`` with
``p % instances == instance`` of EVERY input topic, so a key's partition on every topic is
owned by the same process and each cache key has one writer). Positions live in PostgreSQL,
not in Kafka: on start and after any failure the consumer seeks to the stored positions.

A batch is up to ``batch_size`` records or ``batch_ms`` milliseconds of records; it becomes
one transaction that locks and checks the batch's position rows, writes the merged row
operations and advances the positions. After the commit the cache writer refreshes the
Redis entries of the keys the batch touched (errors there are logged and swallowed).

A record never stops the others: one that cannot be decoded, whose row mapping raises, or
whose rows PostgreSQL refuses even when the batch is written again record by record, is
parked in its topic's ``.dlq`` twin and listed in ``projection_dead_letters`` (see
:mod:`infra.projector.dead_letters`), in the transaction that moves the position past it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from redis.asyncio import Redis

from events.catalog import DEFAULT_PARTITIONS
from events.codec import codec_for
from infra.bootstrap import Root
from infra.kafka.clients import make_consumer, make_producer
from infra.migrations import migrate
from infra.postgres import PgTimeouts, StoreTimeout, create_pool, wait_for_database
from infra.postgres import connect as pg_connect
from infra.projector.batch import BatchWriter, InputTopic, prepare
from infra.projector.cache import CacheWriter
from infra.projector.dead_letters import (
    UNAPPLIABLE,
    error_detail,
)
from infra.projector.metrics import APPLY_DELAY, BATCH_RECORDS, observe_lag
from infra.projector.positions import (
    PositionConflict,
    PositionKey,
    load_positions,
)
from infra.redis_store import create_redis
from infra.service_health import startup_condition
from infra.services.lifecycle import Stopped, unless_stopped
from projections.catalog import Projection, input_topics, select

log = logging.getLogger(__name__)

CRASH_BEFORE_COMMIT: Final = "projector-before-commit"
"""Test-only ``CLAUDEGRAM_TEST_CRASH`` point (``projector-before-commit:N``): exit the process
(status 99) once N records were applied in an uncommitted transaction, to simulate
``kill -9`` mid-batch."""

FETCH_WAIT_MS: Final = 20
"""How long Tansu may hold an empty fetch (it holds every fetch that long, records or not):
short, so a new record is seen at once. Apache Kafka answers a fetch as soon as a record
arrives, so there the consumer keeps its default (500 ms): a shorter wait only polls an idle
broker more often, and at 20 ms the projector's fetches (every partition of every event
topic, 50 a second) were a third of its CPU under the soak."""

DB_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    ConnectionError,
    StoreTimeout,
)


@dataclass(frozen=True, slots=True)
class ProjectorOptions:
    """How a projector process runs."""

    projections: tuple[Projection, ...] = field(default_factory=lambda: select(None))
    topic_prefix: str = ""
    schema: str = "public"
    batch_size: int = 2000
    batch_ms: int = 20
    instance: int = 0
    instances: int = 1
    use_redis: bool = True
    migrate: bool = True
    crash_after: int = 0
    """Test hook: exit before the commit once this many records were applied (0: never)."""


class Projector:
    """Owns a started consumer, a pool and an optional cache writer; see the module doc."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        options: ProjectorOptions,
        cache: CacheWriter | None = None,
    ) -> None:
        self.pool = pool
        self.consumer = consumer
        self.producer = producer
        self.options = options
        self.cache = cache
        self.topics: dict[str, InputTopic] = {}
        for spec in input_topics(options.projections):
            name = options.topic_prefix + spec.name
            subscribed = tuple(p for p in options.projections if spec in p.topics)
            self.topics[name] = InputTopic(spec, name, codec_for(spec), subscribed)
        self.tables = [t for p in options.projections for t in p.tables]
        self.positions: dict[PositionKey, int] = {}
        self.last_event_at: dict[str, datetime] = {}
        self.partitions: list[TopicPartition] = []
        self.applied = 0
        self._crash_after = options.crash_after
        self._writer = BatchWriter(
            pool, producer, options.schema, self.tables, crash_after=self._crash_after
        )

    # ------------------------------------------------------------------ assignment

    async def assign(self, timeout: float = 30.0) -> None:
        """Assign this instance's partitions of every input topic (waiting for metadata)."""
        wanted: list[TopicPartition] = []
        deadline = time.monotonic() + timeout
        for name, topic in self.topics.items():
            while True:
                parts = self.consumer.partitions_for_topic(name)
                if parts:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"topic {name} has no partitions (does it exist?)")
                await self.consumer.topics()  # refresh metadata
                await asyncio.sleep(0.2)
            del topic
            wanted += [
                TopicPartition(name, p)
                for p in sorted(parts)
                if p % self.options.instances == self.options.instance
            ]
        self.partitions = wanted
        self.consumer.assign(wanted)

    async def seek_to_stored(self) -> None:
        """Load the stored positions and seek every partition to the lowest of them."""
        names = [p.name for p in self.options.projections]
        async with self.pool.acquire() as conn:
            stored = await load_positions(conn, self.options.schema, names)
        self.positions = {}
        for tp in self.partitions:
            topic = self.topics[tp.topic]
            offsets = []
            for projection in topic.projections:
                key = (projection.name, tp.topic, tp.partition)
                found = stored.get(key)
                self.positions[key] = found.next_offset if found else 0
                offsets.append(self.positions[key])
                if found is not None and found.last_event_at is not None:
                    previous = self.last_event_at.get(projection.name)
                    if previous is None or found.last_event_at > previous:
                        self.last_event_at[projection.name] = found.last_event_at
            self.consumer.seek(tp, min(offsets))

    # ------------------------------------------------------------------ batches

    async def collect(self) -> list[ConsumerRecord[bytes, bytes]]:
        """Up to ``batch_size`` records, waiting at most ``batch_ms`` after the first one."""
        size, window = self.options.batch_size, self.options.batch_ms / 1000
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline: float | None = None
        timeout_ms = 200
        while len(records) < size:
            got = await self.consumer.getmany(
                timeout_ms=timeout_ms, max_records=size - len(records)
            )
            for part in got.values():
                records.extend(part)
            if not records:
                return records
            now = time.monotonic()
            if deadline is None:
                deadline = now + window
            if now >= deadline:
                break
            timeout_ms = max(1, int((deadline - now) * 1000))
        return records

    async def apply(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        """Apply one batch in one transaction; answers the records applied (not skipped).

        When PostgreSQL refuses the batch because of one record's rows (bad data, a
        constraint, a size limit), the batch is written again record by record, each in its
        own savepoint; a record still refused is dead-lettered (see
        :meth:`infra.projector.batch.BatchWriter.one_by_one`).
        """
        batch = await prepare(records, self.topics, self.positions, self.producer)
        if not batch.advanced:
            return 0
        try:
            changes = await self._writer.write(batch, self.applied)
        except UNAPPLIABLE as exc:
            log.warning(
                "projector batch refused; applying its records one by one",
                extra={"fields": {"records": len(batch.items), "error": error_detail(exc)}},
            )
            changes = await self._writer.one_by_one(batch)
        committed_at = datetime.now(UTC)
        for key, (offset, at) in batch.advanced.items():
            self.positions[key] = offset
            if at is not None:
                previous = self.last_event_at.get(key[0])
                if previous is None or at > previous:
                    self.last_event_at[key[0]] = at
        self.applied += batch.applied
        BATCH_RECORDS.observe(len(records))
        if batch.newest is not None:
            APPLY_DELAY.observe(max(0.0, (committed_at - batch.newest).total_seconds()))
        if self.cache is not None:
            await self.cache.after_commit(changes)
        return batch.applied

    def update_lag(self) -> None:
        """Publish records and seconds behind per projection (from the fetch highwaters)."""
        behind: dict[str, int] = {p.name: 0 for p in self.options.projections}
        for (name, topic, partition), offset in self.positions.items():
            high = self.consumer.highwater(TopicPartition(topic, partition))
            if high is not None:
                behind[name] += max(0, high - offset)
        now = datetime.now(UTC)
        for name, records in behind.items():
            last = self.last_event_at.get(name)
            seconds = 0.0 if records == 0 or last is None else (now - last).total_seconds()
            observe_lag(name, records, max(0.0, seconds))

    async def run(self, stop: asyncio.Event) -> None:
        """Project until ``stop`` is set; database and broker failures are retried."""
        backoff = 0.2
        await self._resync(stop)
        while not stop.is_set():
            try:
                records = await self.collect()
                if records:
                    await self.apply(records)
                elif self.cache is not None:
                    await self.cache.idle()  # a due re-warm goes on while nothing comes
                self.update_lag()
                backoff = 0.2
            except PositionConflict as exc:
                log.warning("positions moved; re-seeking", extra={"fields": {"detail": str(exc)}})
                await self._resync(stop)
            except (*DB_ERRORS, KafkaError) as exc:
                log.warning(
                    "projector batch failed; retrying",
                    extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
                await self._resync(stop)

    async def _resync(self, stop: asyncio.Event) -> None:
        """Seek to the stored positions, waiting for the database to answer."""
        delay = 0.2
        while not stop.is_set():
            try:
                await self.seek_to_stored()
                return
            except DB_ERRORS as exc:
                log.warning(
                    "cannot read positions; waiting for PostgreSQL",
                    extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 5.0)


def owner(instance: int, instances: int) -> Callable[[str], bool] | None:
    """Whether a key's partition (default partitioner, 12 partitions) is this instance's."""
    if instances <= 1:
        return None

    def owns(key: str) -> bool:
        partition: int = (murmur2(key.encode()) & 0x7FFFFFFF) % DEFAULT_PARTITIONS
        return partition % instances == instance

    return owns


async def _migrate(database_url: str, schema: str, timeouts: PgTimeouts | None) -> None:
    conn = await pg_connect(database_url, bulk=True, timeouts=timeouts)
    try:
        await migrate(conn, schema)
    finally:
        await conn.close()


def _cache_writer(
    redis: Redis, pool: asyncpg.Pool, options: ProjectorOptions, prefix: str
) -> CacheWriter:
    instance, instances = options.instance, options.instances
    return CacheWriter(
        redis,
        pool,
        options.schema,
        prefix=prefix,
        owns=owner(instance, instances),
        name=f"{instance}of{instances}",
    )


def _watch_dependencies(root: Root, pool: asyncpg.Pool, redis: Redis | None) -> None:
    """``/readyz``: the projector's own pool and Redis client probed."""
    root.watch("postgres", lambda: pool.fetchval("SELECT 1"))
    if redis is not None:
        root.watch("redis", redis.ping)


async def run_projector(
    root: Root,
    stop: asyncio.Event,
    *,
    topic_prefix: str | None = None,
    schema: str | None = None,
    projections: str | None = None,
    instance: int = 0,
    instances: int = 1,
    batch_size: int | None = None,
    batch_ms: int | None = None,
    use_redis: bool = True,
    cache_prefix: str | None = None,
    pg_timeouts: PgTimeouts | None = None,
) -> None:
    """Run a projector until ``stop`` is set (``botctl projector``).

    ``projections`` is a comma-separated list of names (default: all); ``instance`` of
    ``instances`` selects this process's partitions. Migrations are applied to ``schema``
    first. Unset options come from the root's settings (``TOPIC_PREFIX``, ``READ_SCHEMA``,
    ``PROJECTOR_BATCH_SIZE``, ``PROJECTOR_BATCH_MS``, ``REDIS_KEY_PREFIX``).
    """
    settings = root.settings
    endpoints = root.endpoints
    profile = await root.profile()
    schema = settings.read_schema if schema is None else schema
    batch_size = batch_size or settings.projector_batch_size
    batch_ms = settings.projector_batch_ms if batch_ms is None else batch_ms
    cache_prefix = settings.redis_key_prefix if cache_prefix is None else cache_prefix
    options = ProjectorOptions(
        projections=select(projections),
        topic_prefix=settings.topic_prefix if topic_prefix is None else topic_prefix,
        schema=schema,
        batch_size=batch_size,
        batch_ms=batch_ms,
        instance=instance,
        instances=instances,
        use_redis=use_redis,
        crash_after=settings.crash_after(CRASH_BEFORE_COMMIT),
    )
    try:
        await unless_stopped(
            stop, wait_for_database(endpoints.database_url, settings.broker_wait, pg_timeouts)
        )
    except Stopped:
        return
    await _migrate(endpoints.database_url, schema, pg_timeouts)
    pool = await create_pool(endpoints.database_url, min_size=1, max_size=4, timeouts=pg_timeouts)
    consumer = make_consumer(
        endpoints.kafka_bootstrap,
        profile,
        [],
        group_id=None,
        max_poll_records=batch_size,
        **({"fetch_max_wait_ms": FETCH_WAIT_MS} if profile.tansu_workarounds else {}),
    )
    producer = make_producer(endpoints.kafka_bootstrap, profile)
    redis = create_redis(endpoints.redis_url) if use_redis else None
    _watch_dependencies(root, pool, redis)
    await consumer.start()
    await producer.start()
    try:
        cache = None if redis is None else _cache_writer(redis, pool, options, cache_prefix)
        projector = Projector(pool, consumer, producer, options, cache)
        await projector.assign()
        if root.readiness is not None:
            root.readiness.met(startup_condition("projector"))
        log.info(
            "projector ready",
            extra={
                "fields": {
                    "projections": [p.name for p in options.projections],
                    "partitions": len(projector.partitions),
                    "schema": schema,
                }
            },
        )
        await projector.run(stop)
    finally:
        await consumer.stop()
        await producer.stop()
        await pool.close()
        if redis is not None:
            await redis.aclose()

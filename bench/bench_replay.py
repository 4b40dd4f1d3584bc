"""Replay and live-projection benchmark.

1. Generates N events (default 1,000,000) of a realistic mix (messages, turns with usage,
   tool calls and files, ledger entries, payments, refunds) with the scenario generator.
2. Produces them into topics used ONLY by this benchmark, with normal multi-record batches
   (Tansu's single-record workaround would take minutes). Tansu's end offsets are wrong for
   multi-record batches, so the replay here reads until the log is idle (``idle_ms``) instead
   of trusting the high watermark; the idle wait is subtracted from the figure.
3. Measures a full replay (fetch + decode + fold + COPY) into a fresh schema, and, apart,
   decode + fold alone from memory (the Python part).
4. Live lag: an in-process projector tails fresh topics while a producer writes turns at
   ``--turns-per-second`` (one turn = message, turn start, answer, charge, turn end, ~5
   records, plus the mix's tool calls); latency is the Kafka record timestamp to the commit
   of its batch, p50/p99 over every record.

Usage: .venv/bin/python bench/bench_replay.py [--events 1000000] [--live-seconds 20]
Uses KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL/REDIS_URL when set, else an embedded stack.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from devkit.scenario import Scenario
from events.catalog import TOPICS
from events.codec import codec_for
from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.kafka.topic_admin import ensure_topics
from infra.migrations import migrate
from infra.postgres import connect as pg_connect
from infra.postgres import create_pool
from infra.projector.replay import rebuild, stderr_progress
from infra.projector.runner import FETCH_WAIT_MS, Projector, ProjectorOptions
from infra.stack.embedded import EmbeddedStack
from projections.catalog import PROJECTIONS, select
from projections.changes import Changes
from projections.safe_text import may_need_scrub
from projections.source import Source
from projections.tables import TABLES

IDLE_MS = 1500


async def produce_bulk(endpoints: Endpoints, prefix: str, items: list[Any]) -> float:
    """Produce with large batches (bench-only topics); answers seconds."""
    producer = make_producer(
        endpoints.kafka_bootstrap,
        BrokerProfile("bench", False),
        linger_ms=20,
        max_batch_size=1024 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for spec, record in items:
            key, value, headers = codec_for(spec).encode(record)
            pending.append(await producer.send(prefix + spec.name, value, key=key, headers=headers))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


def fold_in_memory(items: list[Any]) -> tuple[float, float]:
    """(decode seconds, fold seconds) for the whole list, from encoded values."""
    encoded = [(spec, codec_for(spec).encode(r)[1]) for spec, r in items]
    t0 = time.perf_counter()
    decoded = [(spec, codec_for(spec).decode(v), v) for spec, v in encoded]
    t1 = time.perf_counter()
    changes = Changes(TABLES.values())
    routes = {spec.name: [p for p in PROJECTIONS.values() if spec in p.topics] for spec in TOPICS}
    for i, (spec, record, value) in enumerate(decoded):
        src = Source(spec.name, 0, i)
        scrub = may_need_scrub(value)  # as the replay does
        for p in routes[spec.name]:
            changes.apply_all(p.ops(record, src, scrub=scrub))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


async def live_lag(
    endpoints: Endpoints, profile: BrokerProfile, seconds: float, turns_per_second: int
) -> dict[str, float]:
    prefix = f"benchlive{uuid.uuid4().hex[:6]}."
    schema = f"bench_live_{uuid.uuid4().hex[:6]}"
    await ensure_topics(endpoints.kafka_bootstrap, TOPICS, name_prefix=prefix)
    conn = await pg_connect(endpoints.database_url, bulk=True)
    await migrate(conn, schema)
    await conn.close()
    pool = await create_pool(endpoints.database_url, max_size=4)
    consumer = make_consumer(
        endpoints.kafka_bootstrap, profile, [], group_id=None, fetch_max_wait_ms=FETCH_WAIT_MS
    )
    producer = make_producer(endpoints.kafka_bootstrap, profile)
    await consumer.start()
    await producer.start()
    options = ProjectorOptions(projections=select(None), topic_prefix=prefix, schema=schema)
    projector = Projector(pool, consumer, producer, options, None)
    await projector.assign()
    latencies: list[float] = []
    original = projector.apply

    async def timed_apply(records: Any) -> int:
        n = await original(records)
        now = time.time()
        latencies.extend(now - r.timestamp / 1000 for r in records)
        return n

    projector.apply = timed_apply  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(stop))
    scenario = Scenario(99, users=500, start=datetime.now(UTC))
    sent = 0
    turns = 0
    started = time.perf_counter()
    pending = []
    stories = scenario.records(10**9)
    while time.perf_counter() - started < seconds:
        tick = time.perf_counter()
        target = int((tick - started) * turns_per_second)
        while turns < target:
            spec, record = next(stories)
            record = msgspec.structs.replace(record, occurred_at=datetime.now(UTC))
            key, value, headers = codec_for(spec).encode(record)
            pending.append(await producer.send(prefix + spec.name, value, key=key, headers=headers))
            sent += 1
            if type(record).__name__ == "TurnCompleted":
                turns += 1
        if len(pending) > 2000:
            await asyncio.gather(*pending)
            pending = []
        await asyncio.sleep(0.005)
    await asyncio.gather(*pending)
    for _ in range(1200):  # wait (bounded) for the projector to commit everything
        if len(latencies) >= sent:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await consumer.stop()
    await producer.stop()
    conn = await pg_connect(endpoints.database_url, bulk=True)
    await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await conn.close()
    await pool.close()
    latencies.sort()
    return {
        "records": sent,
        "turns": turns,
        "turns_per_second": turns / elapsed,
        "records_per_second": sent / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    parser.add_argument("--turns-per-second", type=int, default=200)
    args = parser.parse_args()
    stack = None
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        endpoints = Endpoints(
            os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            os.environ["DATABASE_URL"],
            os.environ["REDIS_URL"],
            embedded=False,
        )
    else:
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="bench-replay-")))
        state = await stack.start()
        endpoints = Endpoints(
            state.kafka_bootstrap, state.database_url, state.redis_url, embedded=True
        )
    try:
        profile = await probe_broker(endpoints.kafka_bootstrap)
        t = time.perf_counter()
        items = list(Scenario(42, users=5000).records(args.events))
        print(f"generated {len(items):,} events in {time.perf_counter() - t:.1f} s")
        decode_s, fold_s = fold_in_memory(items)
        print(
            f"in memory: decode {len(items) / decode_s:,.0f} ev/s, "
            f"fold {len(items) / fold_s:,.0f} ev/s, "
            f"both {len(items) / (decode_s + fold_s):,.0f} ev/s"
        )
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        await ensure_topics(endpoints.kafka_bootstrap, TOPICS, name_prefix=prefix)
        seconds = await produce_bulk(endpoints, prefix, items)
        print(f"produced {len(items):,} in {seconds:.1f} s ({len(items) / seconds:,.0f}/s)")
        schema = f"bench_replay_{uuid.uuid4().hex[:6]}"
        cpu = time.process_time()
        load_before = os.getloadavg()[0]
        result = await rebuild(
            endpoints,
            projections=select(None),
            schema=schema,
            topic_prefix=prefix,
            idle_ms=IDLE_MS,
            progress=stderr_progress(),
            profile=profile,
        )
        cpu = time.process_time() - cpu
        net = result.seconds - IDLE_MS / 1000
        print(
            f"replay: {result.records:,} records into {sum(result.rows.values()):,} rows in "
            f"{net:.1f} s (idle wait excluded) = {result.records / net:,.0f} ev/s"
        )
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in result.phases.items())
        print(
            f"  phases: {phases} (read includes the {IDLE_MS / 1000:.1f} s idle wait); "
            f"replay process CPU {cpu:.1f} s ({cpu / result.records * 1e6:.1f} us/event); "
            f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
        )
        print("rows:", {k: v for k, v in result.rows.items() if v})
        conn = await pg_connect(endpoints.database_url, bulk=True)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
        if args.live_seconds > 0:
            figures = await live_lag(endpoints, profile, args.live_seconds, args.turns_per_second)
            print(
                "live: {records:,} records, {turns_per_second:.0f} turns/s "
                "({records_per_second:,.0f} records/s); produce->commit latency "
                "p50 {p50_ms:.0f} ms, p99 {p99_ms:.0f} ms, max {max_ms:.0f} ms".format(**figures)
            )
    finally:
        if stack is not None:
            stack.reset()


if __name__ == "__main__":
    asyncio.run(main())

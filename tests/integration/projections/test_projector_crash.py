"""A projector process killed mid-batch, and restarted, ends with the rows of an
uninterrupted run (positions and rows commit together or not at all)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from projection_helpers import (
    applied_records,
    create_topics,
    expected_counts,
    produce,
    table_sums,
    wait_positions,
)

from devkit.scenario import Scenario
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.postgres import quote_schema
from infra.projector.runner import CRASH_HOOK_ENV, run_projector

ROOT = Path(__file__).resolve().parents[3]


def _start(
    stack: Endpoints, prefix: str, schema: str, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.projector",
            "--kafka",
            stack.kafka_bootstrap,
            "--database-url",
            stack.database_url,
            "--redis-url",
            stack.redis_url,
            "--topic-prefix",
            prefix,
            "--schema",
            schema,
            "--cache-prefix",
            f"{schema}:",
            "--batch-size",
            "100",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _drop(stack: Endpoints, *schemas: str) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        for s in schemas:
            await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(s)} CASCADE")
    finally:
        await conn.close()


async def test_kill_mid_batch_then_restart_gives_the_uninterrupted_rows(
    stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """Exit before a commit (test hook), SIGKILL at a random point, restart: same rows."""
    prefix = f"k{uuid.uuid4().hex[:8]}."
    reference, crashed = f"t_kill_ref_{prefix[1:9]}", f"t_kill_run_{prefix[1:9]}"
    await create_topics(stack, prefix)
    items = list(Scenario(11, users=30).records(1500))
    await produce(stack, broker_profile, prefix, items)
    expected = expected_counts(items)
    try:
        # The uninterrupted run, in process.
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_projector(
                stack,
                None,
                stop,
                topic_prefix=prefix,
                schema=reference,
                profile=broker_profile,
                use_redis=False,
            )
        )
        await wait_positions(stack, reference, expected)
        stop.set()
        await asyncio.wait_for(task, 30)

        # 1. The process dies after applying 450 records of a batch, before its commit.
        proc = _start(stack, prefix, crashed, {CRASH_HOOK_ENV: "450"})
        _, err = await asyncio.to_thread(proc.communicate, timeout=120)
        assert proc.returncode == 99, err.decode()[-2000:]
        conn = await asyncpg.connect(stack.database_url)
        try:
            partial = await applied_records(conn, crashed, "threads")
        finally:
            await conn.close()
        assert partial < expected["threads"]

        # 2. Restarted, then SIGKILLed as soon as it has made progress.
        proc = _start(stack, prefix, crashed, {})
        deadline = time.monotonic() + 60
        conn = await asyncpg.connect(stack.database_url)
        try:
            while await applied_records(conn, crashed, "threads") <= partial + 100:
                assert proc.poll() is None
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
        finally:
            await conn.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

        # 3. Restarted again, it finishes: the rows equal the uninterrupted run's.
        proc = _start(stack, prefix, crashed, {})
        try:
            await wait_positions(stack, crashed, expected)
        finally:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert await table_sums(stack, crashed) == await table_sums(stack, reference)
    finally:
        await _drop(stack, reference, crashed)

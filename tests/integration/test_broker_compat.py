"""The broker workarounds hold: end offsets and Faust table recovery are right.

If a future broker build makes these pass without the workarounds (BROKER_COMPAT=kafka), the
workarounds can be dropped; if these fail, the workarounds no longer suffice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from infra.endpoints import Endpoints
from infra.kafka.clients import make_admin, make_consumer, make_producer
from infra.kafka.compat import BrokerProfile

PROBE = Path(__file__).with_name("faust_table_probe.py")
ROOT = Path(__file__).resolve().parents[2]


async def _create(bootstrap: str, topic: str, partitions: int) -> None:
    admin = make_admin(bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def _produce(stack: Endpoints, profile: BrokerProfile, topic: str, n: int) -> None:
    producer = make_producer(stack.kafka_bootstrap, profile)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, f'"v{i}"'.encode(), key=f"k{i}".encode()) for i in range(n)
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def test_end_offsets_count_every_record(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """After 30 records sent back to back, the end offsets add up to 30."""
    topic = f"{topic_prefix}offsets"
    await _create(stack.kafka_bootstrap, topic, 3)
    await _produce(stack, broker_profile, topic, 30)
    consumer = make_consumer(stack.kafka_bootstrap, broker_profile, [], group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    assert sum(ends.values()) == 30


def _start_probe(stack: Endpoints, prefix: str, out: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROBE_BOOTSTRAP": stack.kafka_bootstrap,
        "PROBE_PREFIX": prefix,
        "PROBE_OUT": str(out),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, str(PROBE), "worker", "--without-web", "-l", "warn"],
        env=env,
        cwd=out.parent,
        stdout=subprocess.DEVNULL,
        stderr=open(out.with_suffix(".log"), "ab"),
    )


async def _wait_for_table(out: Path, expected: dict[str, str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        if out.exists():
            seen = json.loads(out.read_text())
            if seen == expected:
                return seen
        await asyncio.sleep(0.2)
    return seen


async def test_faust_table_recovers_every_value(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str, tmp_path: Path
) -> None:
    """A fresh worker restores all 20 table values from the changelog written by another."""
    expected = {f"k{i}": f"v{i}" for i in range(20)}
    first_out = tmp_path / "first.json"
    # Apache Kafka creates no topic on first use (Tansu does): the source exists beforehand,
    # as the catalog's topics do in production.
    await _create(stack.kafka_bootstrap, f"{topic_prefix}source", 4)
    worker = _start_probe(stack, topic_prefix, first_out)
    try:
        await asyncio.sleep(1.0)
        await _produce(stack, broker_profile, f"{topic_prefix}source", 20)
        assert await _wait_for_table(first_out, expected, 60) == expected
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    second_out = tmp_path / "second.json"
    second_out.unlink(missing_ok=True)
    restarted = _start_probe(stack, topic_prefix, second_out)
    try:
        assert await _wait_for_table(second_out, expected, 60) == expected
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)

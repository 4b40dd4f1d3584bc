"""A billing worker killed between appending entries and committing charges no one twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from aiokafka import TopicPartition

from actors.billing import commands
from actors.thread.models import HAIKU
from devkit.harness.topics import read_ledger
from events.catalog import BILLING_COMMANDS, with_prefix
from events.usage import Usage
from infra.billing.worker import CRASH_AFTER_APPEND, GROUP_ID
from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.services.supervisor import botctl_argv

ROOT = Path(__file__).resolve().parents[3]


def _start(stack: Endpoints, prefix: str, log: Path, *, crash: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "TOPIC_PREFIX": prefix,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "INFO",
    }
    env.pop("CLAUDEGRAM_TEST_CRASH", None)
    if crash:
        env["CLAUDEGRAM_TEST_CRASH"] = CRASH_AFTER_APPEND
    return subprocess.Popen(
        botctl_argv("billing-worker"),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab"),
    )


async def _committed(stack: Endpoints, profile: BrokerProfile, prefix: str) -> int:
    """Sum of the billing group's committed offsets on the commands topic."""
    topic = with_prefix(BILLING_COMMANDS, prefix).name
    consumer = make_consumer(stack.kafka_bootstrap, profile, [], group_id=prefix + GROUP_ID)
    await consumer.start()
    try:
        total = 0
        for p in range(BILLING_COMMANDS.partitions):
            total += await consumer.committed(TopicPartition(topic, p)) or 0
    finally:
        await consumer.stop()
    return total


async def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while proc.poll() is None:
        if loop.time() > deadline:
            proc.kill()
            raise TimeoutError("the worker did not exit")
        await asyncio.sleep(0.1)
    return proc.returncode


async def test_worker_killed_after_append_before_commit_charges_once_after_restart(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
    tmp_path: Path,
) -> None:
    """SIGKILL-equivalent exit right after the entries are acked, before the offsets are
    committed; the restarted worker folds the ledger and each operation appears once."""
    sent = [
        commands.usage_charge(uid, model=HAIKU, usage=Usage(input_tokens=1000 * i + 1))
        for uid in range(900, 910)
        for i in range(5)
    ]
    await publisher.publish_all([(BILLING_COMMANDS, c) for c in sent])
    log = tmp_path / "worker.log"
    crashing = _start(stack, billing_topics, log, crash=True)
    assert await _wait_exit(crashing, 120) == 137, log.read_text()[-3000:]
    after_crash = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    assert after_crash, "the crash hook fires only after entries were appended"
    assert await _committed(stack, broker_profile, billing_topics) == 0

    restarted = _start(stack, billing_topics, log, crash=False)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while True:
            entries = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
            if len({(e.key, e.operation_id) for e in entries}) >= len(sent):
                break
            assert restarted.poll() is None, log.read_text()[-3000:]
            assert loop.time() < deadline, "restarted worker did not catch up"
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # let a (wrong) second append show up if there were one
        entries = await read_ledger(stack.kafka_bootstrap, broker_profile, billing_topics)
    finally:
        restarted.send_signal(signal.SIGTERM)
        await _wait_exit(restarted, 30)
    ops = Counter((e.key, e.operation_id) for e in entries)
    assert len(entries) == len(sent)
    assert set(ops.values()) == {1}
    assert {(c.key, c.operation_id) for c in sent} == set(ops)
    assert all(e in entries for e in after_crash)

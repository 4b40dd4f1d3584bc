"""`botctl kafka TOOL` runs Kafka's own tools against the configured cluster, and what they
show of the project's producers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from aiokafka.admin import NewTopic

from infra.endpoints import Endpoints
from infra.kafka.clients import make_admin, make_producer
from infra.kafka.compat import BrokerProfile

pytestmark = pytest.mark.skipif(
    os.environ.get("EMBEDDED_BROKER") == "tansu", reason="Kafka's tools need Apache Kafka"
)


def botctl_kafka(stack: Endpoints, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "infra.cli.main", "kafka", *args],
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=180,
    )


async def test_producers_are_idempotent_as_the_broker_sees_them(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """A project producer's records carry a producer id and sequence numbers: the broker
    tracks it as an idempotent producer (`kafka-transactions describe-producers`)."""
    if broker_profile.tansu_workarounds:
        pytest.skip("Tansu: the idempotent producer is off by design")
    topic = f"{topic_prefix}idem"
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(topic, f"v{i}".encode(), key=b"k")
    finally:
        await producer.stop()

    listed = botctl_kafka(stack, "kafka-topics", "--list")
    assert listed.returncode == 0, listed.stderr
    assert topic in listed.stdout.split()
    described = botctl_kafka(
        stack, "kafka-transactions", "describe-producers", "--topic", topic, "--partition", "0"
    )
    assert described.returncode == 0, described.stderr
    rows = [line.split() for line in described.stdout.strip().splitlines()[1:]]
    assert len(rows) == 1
    producer_id, _epoch, _coordinator_epoch, last_sequence = rows[0][:4]
    assert int(producer_id) >= 0
    assert int(last_sequence) == 2

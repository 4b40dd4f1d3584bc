"""A consumer stopped while a fetch of it waits out its retry backoff (what every fetch does
while the broker is down) stops without raising, and closes its connections."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from infra.endpoints import Endpoints
from infra.kafka.clients import make_admin, make_consumer
from infra.kafka.compat import BrokerProfile


async def test_a_stop_during_a_failed_fetchs_backoff_does_not_raise(
    stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    topic = f"consumer-stop-{uuid.uuid4().hex[:8]}"
    admin = make_admin(stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    # every fetch long-polls for 2 s but may take 0.2 s: it fails (a request timeout, as a
    # broker gone away fails it), and the fetcher waits 60 s before the next
    consumer = make_consumer(
        stack.kafka_bootstrap,
        broker_profile,
        (),
        group_id=None,
        fetch_max_wait_ms=2000,
        request_timeout_ms=200,
        retry_backoff_ms=60_000,
    )
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0)])
    fetcher = consumer._fetcher
    async with asyncio.timeout(30):
        while not fetcher._pending_tasks:  # noqa: ASYNC110 - the failed fetch, in its backoff
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    await consumer.stop()  # aiokafka's own stop raised CancelledError here
    assert consumer._closed
    assert not [c for c in consumer._client._conns.values() if c.connected()]

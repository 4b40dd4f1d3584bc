"""Factories for the project's aiokafka producers, consumers and admin clients.

Every client takes its broker-specific options from :mod:`infra.kafka.compat`, so the Tansu
workarounds stay behind one switch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from infra.kafka.compat import TANSU_FETCH_MAX_WAIT_MS, BrokerProfile, producer_options


def make_producer(bootstrap: str, profile: BrokerProfile, **overrides: Any) -> AIOKafkaProducer:
    options = {**producer_options(profile), **overrides}
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **options)


def consumer_options(profile: BrokerProfile) -> dict[str, Any]:
    options: dict[str, Any] = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
    if profile.tansu_workarounds:
        # Tansu completes a group join only after the rebalance timeout: keep it short.
        options["rebalance_timeout_ms"] = 3000
        options["session_timeout_ms"] = 6000
        options["heartbeat_interval_ms"] = 1000
        options["fetch_max_wait_ms"] = TANSU_FETCH_MAX_WAIT_MS
    return options


class Consumer(AIOKafkaConsumer):  # type: ignore[misc]
    """An aiokafka consumer whose metadata knows every topic after ``start()`` and ``topics()``.

    aiokafka bootstraps with a Metadata request for an empty topic list, which Apache Kafka
    answers (v4+) with no topic at all (Tansu answers with every topic), and its ``topics()``
    fetches metadata without keeping it: ``partitions_for_topic`` would stay None for a
    consumer that assigns partitions itself. Here both load the topics into the cache.
    """

    async def start(self) -> None:
        await super().start()
        if not self._client._topics:  # nothing tracked: this update asks for every topic
            await self._client.force_metadata_update()

    async def stop(self) -> None:
        """Stop, as aiokafka does, except that a broker gone away does not make it raise.

        aiokafka's fetcher cancels its pending fetch requests and then awaits them, so a stop
        while one waits out its retry backoff (the broker is down) raised that request's
        ``CancelledError`` into the caller, left the client's connections open, and ended
        a service stopped during an outage with a traceback and exit code 1. Here the rest
        of the stop is done; a cancellation of the calling task itself still propagates."""
        try:
            await super().stop()
        except asyncio.CancelledError:
            fetcher = self._fetcher
            if fetcher is not None:  # what aiokafka's stop left running when it raised
                fetcher._fetch_task.cancel()
                for pending in list(fetcher._pending_tasks):
                    pending.cancel()
            await asyncio.shield(self._client.close())
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise

    async def topics(self) -> set[str]:
        found: set[str] = await super().topics()
        missing = found - self._client.cluster.topics()
        if missing:
            if self._client._topics:
                for topic in missing:
                    self._client.add_topic(topic)
            await self._client.force_metadata_update()
        return found


def make_consumer(
    bootstrap: str,
    profile: BrokerProfile,
    topics: Sequence[str],
    *,
    group_id: str | None,
    **overrides: Any,
) -> AIOKafkaConsumer:
    options = {**consumer_options(profile), **overrides}
    return Consumer(*topics, bootstrap_servers=bootstrap, group_id=group_id, **options)


def make_admin(bootstrap: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap)


async def refresh_partitions(consumer: AIOKafkaConsumer, topic: str, timeout: float) -> set[int]:
    """The partitions of ``topic``, refreshing the consumer's metadata until it knows them
    (empty when it does not within ``timeout``).

    ``consumer.topics()`` fetches metadata without keeping it, and a client bootstrapped by
    Apache Kafka knows no topic at first: the topic is tracked and the metadata updated here.
    """
    deadline = time.monotonic() + timeout
    while True:
        parts: set[int] = consumer.partitions_for_topic(topic) or set()
        if parts or time.monotonic() > deadline:
            return parts
        client = consumer._client
        client.add_topic(topic)
        await client.force_metadata_update()
        await asyncio.sleep(0.05)

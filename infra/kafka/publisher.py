"""Appending records to topics: encode with the topic's codec, produce, await durability.

How every service appends its records (the gateway's handlers through
:class:`infra.gateway.durable.DurablePublisher`, which bounds each write in time).
``publish`` returns once the broker has acknowledged the record (acks=all), so a caller may
ack its input only after its outputs are durable. Topic names can carry a prefix (tests,
side-by-side environments).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer

from events.catalog import TopicSpec
from events.codec import codec_for
from events.envelope import Envelope

E = TypeVar("E")


class EventPublisher:
    """Encodes and produces records; owns nothing but a started producer."""

    def __init__(self, producer: AIOKafkaProducer, *, topic_prefix: str = "") -> None:
        self._producer = producer
        self.topic_prefix = topic_prefix

    def topic_name(self, spec: TopicSpec[Any]) -> str:
        return self.topic_prefix + spec.name

    async def publish(self, spec: TopicSpec[E], record: E) -> None:
        """Produce one record and wait until the broker has it."""
        key, value, headers = codec_for(spec).encode(record)
        await self._producer.send_and_wait(self.topic_name(spec), value, key=key, headers=headers)

    async def publish_all(self, items: Sequence[tuple[TopicSpec[Any], Envelope]]) -> None:
        """Produce several records (in order per topic and key) and wait for all of them."""
        futures = []
        for spec, record in items:
            key, value, headers = codec_for(spec).encode(record)
            futures.append(
                await self._producer.send(self.topic_name(spec), value, key=key, headers=headers)
            )
        await asyncio.gather(*futures)

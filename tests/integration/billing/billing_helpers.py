"""Helpers shared by the billing integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from events.catalog import BILLING_LEDGER, LedgerRecord
from events.codec import codec_for
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile


async def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll a condition (cheap, in-process) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


async def read_topic(
    bootstrap: str, profile: BrokerProfile, topic: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` up to its current end."""
    reader = make_consumer(bootstrap, profile, [], group_id=None)
    await reader.start()
    out: list[ConsumerRecord[bytes, bytes]] = []
    try:
        await reader.topics()
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in (await reader.getmany(*remaining, timeout_ms=1000)).items():
                out += records
                if records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await reader.stop()
    return out


async def read_ledger(bootstrap: str, profile: BrokerProfile, prefix: str) -> list[LedgerRecord]:
    codec = codec_for(BILLING_LEDGER)
    records = await read_topic(bootstrap, profile, prefix + BILLING_LEDGER.name)
    return [codec.decode(r.value) for r in records]

"""Reading the ledger topic: fold partitions from offset zero to their end (or a time).

Used by the billing worker when it is assigned partitions (its state *is* this fold), by
replay, and by the ledger-folding balance view. Reads with a group-less consumer on
explicitly assigned partitions, so nothing here joins a group or commits anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final

from aiokafka import AIOKafkaConsumer, TopicPartition

from actors.billing.ledger import BillingState, evolve
from events.catalog import BILLING_LEDGER, LedgerRecord
from events.codec import Codec, DecodeError, codec_for

FETCH_RECORDS: Final = 20_000

States = dict[str, BillingState]


class LedgerCorrupt(Exception):
    """A ledger record cannot be decoded: billing must not guess a balance without it."""


async def read_to_end(
    reader: AIOKafkaConsumer,
    partitions: Iterable[TopicPartition],
    on_entry: Callable[[int, LedgerRecord], None],
    *,
    codec: Codec[LedgerRecord] | None = None,
    until: datetime | None = None,
) -> int:
    """Feed every entry of ``partitions`` (from offset 0 to the end offset read at the
    start) to ``on_entry(partition, entry)``; with ``until``, stop at entries that
    occurred after it. Returns how many entries were read."""
    codec = codec or codec_for(BILLING_LEDGER)
    tps = list(partitions)
    if not tps:
        return 0
    reader.assign(tps)
    await reader.seek_to_beginning(*tps)
    ends = await reader.end_offsets(tps)
    remaining = {tp for tp in tps if ends[tp] > 0}
    count = 0
    stopped: set[TopicPartition] = set()
    while remaining:
        batches = await reader.getmany(*remaining, timeout_ms=1000, max_records=FETCH_RECORDS)
        for tp, records in batches.items():
            end = ends[tp]
            for record in records:
                if record.offset >= end or tp in stopped:
                    break
                try:
                    entry = codec.decode(record.value)
                except DecodeError as exc:
                    raise LedgerCorrupt(
                        f"{tp.topic}[{tp.partition}]@{record.offset}: {exc.reason}: {exc.detail}"
                    ) from exc
                if until is not None and entry.occurred_at > until:
                    stopped.add(tp)
                    break
                on_entry(tp.partition, entry)
                count += 1
        for tp in list(remaining):
            if tp in stopped or await reader.position(tp) >= ends[tp]:
                remaining.discard(tp)
    return count


async def fold_partitions(
    reader: AIOKafkaConsumer,
    topic: str,
    partitions: Iterable[int],
    *,
    until: datetime | None = None,
) -> dict[int, States]:
    """Per partition, per user key: the billing state folded from the ledger."""
    states: dict[int, States] = {p: {} for p in partitions}

    def apply(partition: int, entry: LedgerRecord) -> None:
        by_key = states[partition]
        state = by_key.get(entry.key)
        if state is None:
            state = by_key[entry.key] = BillingState()
        evolve(state, entry)

    await read_to_end(reader, [TopicPartition(topic, p) for p in states], apply, until=until)
    return states

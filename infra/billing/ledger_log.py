"""Reading the ledger topic: fold partitions from their start to their end (or a time).

Used by the billing worker when it is assigned partitions (its state *is* this fold), by
replay, and by the ledger-folding balance view. Reads with a group-less consumer on
explicitly assigned partitions (:func:`infra.kafka.read_to_end.read_to_end`), so nothing
here joins a group or commits anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from actors.billing.fold_records import decode_slim
from actors.billing.ledger_fold import Foldable, evolve
from actors.billing.ledger_state import BillingState
from events.catalog import BILLING_LEDGER, LedgerRecord
from events.codec import Codec, DecodeError, codec_for
from infra.kafka.read_to_end import read_to_end

FETCH_RECORDS: Final = 20_000

States = dict[str, BillingState]
T = TypeVar("T", bound=Foldable)
_FULL: Final[Codec[LedgerRecord]] = codec_for(BILLING_LEDGER)


class LedgerCorrupt(Exception):
    """A ledger record cannot be decoded: billing must not guess a balance without it."""


async def read_ledger(
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
    full = codec or codec_for(BILLING_LEDGER)
    return await _read(reader, partitions, full.decode, on_entry, until)


def decode_for_fold(value: bytes | None) -> Foldable:
    """A ledger value as the fold needs it: the slim fold record, else the full record."""
    slim = decode_slim(value) if value else None
    if slim is not None:
        return slim
    return _FULL.decode(value)


async def _read(
    reader: AIOKafkaConsumer,
    partitions: Iterable[TopicPartition],
    decode: Callable[[bytes | None], T],
    on_entry: Callable[[int, T], None],
    until: datetime | None,
) -> int:
    count = 0
    read = await read_to_end(reader, partitions)
    async for tp, records in read.batches(max_records=FETCH_RECORDS):
        partition = tp.partition
        for record in records:
            try:
                entry = decode(record.value)
            except DecodeError as exc:
                raise LedgerCorrupt(
                    f"{tp.topic}[{partition}]@{record.offset}: {exc.reason}: {exc.detail}"
                ) from exc
            if until is not None and entry.occurred_at > until:
                read.stop(tp)
                break
            on_entry(partition, entry)
            count += 1
    return count


async def fold_partitions(
    reader: AIOKafkaConsumer,
    topic: str,
    partitions: Iterable[int],
    *,
    until: datetime | None = None,
) -> dict[int, States]:
    """Per partition, per user key: the billing state folded from the ledger (entries are
    decoded with the slim fold records, falling back to the full codec)."""
    states: dict[int, States] = {p: {} for p in partitions}

    def apply(partition: int, entry: Foldable) -> None:
        by_key = states[partition]
        key = entry.key
        state = by_key.get(key)
        if state is None:
            state = by_key[key] = BillingState()
        evolve(state, entry)

    await _read(reader, [TopicPartition(topic, p) for p in states], decode_for_fold, apply, until)
    return states

"""Deciding one batch of billing commands against the partitions' states (no I/O but
dead letters): the worker then appends the entries and commits the offsets.

Each command is checked (:mod:`infra.billing.command_check`), decided against its user's
state and folded into it at once, so the next command of the same user in the batch sees
it. A command whose decision raises is dead-lettered alone: one bad command never blocks
its partition.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from actors.billing.ledger_fold import evolve
from actors.billing.ledger_state import BillingState
from events.billing import OperationRejected
from events.catalog import BILLING_LEDGER, BillingCommand, LedgerRecord
from events.codec import Codec, EncodedRecord, codec_for
from events.envelope import event_type
from infra.billing import metrics
from infra.billing.command_check import CommandCheck, Refused
from infra.billing.partition_states import PartitionStates, WorkerStats

log = logging.getLogger("infra.billing.worker")

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Decider = Callable[[BillingState, BillingCommand, datetime], list[LedgerRecord]]
"""``actors.billing.ledger.decide``'s shape (tests inject a failing one)."""
DeadLetter = Callable[[Record, str, str], Awaitable[None]]
FILL_SECONDS: Final = 0.02
FILL_POLL_MS: Final = 5


async def fill_batch(
    consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[Record]], batch_max: int
) -> None:
    """Top a small batch up with what arrives within a few ms: one append round trip
    and one commit then serve many commands (fetches hand over a few records each)."""
    total = sum(len(r) for r in batches.values())
    deadline = time.monotonic() + FILL_SECONDS
    while total < batch_max and time.monotonic() < deadline:
        more = await consumer.getmany(timeout_ms=FILL_POLL_MS, max_records=batch_max - total)
        if not more:
            break
        for tp, records in more.items():
            batches.setdefault(tp, []).extend(records)
            total += len(records)


@dataclass(slots=True)
class Decided:
    """A decided batch: the encoded entries per partition, the offsets to commit after
    them, the outcome counts and the entries themselves (for the money metrics)."""

    outgoing: dict[int, list[EncodedRecord]] = field(default_factory=dict)
    offsets: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    entries: list[object] = field(default_factory=list)


class BatchDecider:
    def __init__(
        self, ledger: PartitionStates, decide: Decider, check: CommandCheck, stats: WorkerStats
    ) -> None:
        self._ledger = ledger
        self._decide = decide
        self._check = check
        self._stats = stats
        self._codec: Codec[LedgerRecord] = codec_for(BILLING_LEDGER)

    async def decide(
        self, batches: dict[TopicPartition, list[Record]], now: datetime, dead_letter: DeadLetter
    ) -> Decided:
        decided = Decided()
        stats = self._stats
        encode = self._codec.encode
        kinds = decided.kinds
        for tp, records in batches.items():
            states = self._ledger.states[tp.partition]
            changed = self._ledger.changed.setdefault(tp.partition, set())
            out = decided.outgoing.setdefault(tp.partition, [])
            for record in records:
                stats.commands += 1
                command = self._check.command_of(record)
                if isinstance(command, Refused):
                    await dead_letter(record, command.reason, command.detail)
                    continue
                state = states.get(command.key)
                if state is None:
                    state = states[command.key] = BillingState()
                try:
                    entries = self._decide(state, command, now)
                    encoded = [encode(entry) for entry in entries]
                except Exception as exc:  # one bad command must never block its partition
                    log.exception(
                        "billing decide failed; command sent to the dead-letter topic",
                        extra={"fields": {"user_id": command.user_id, "offset": record.offset}},
                    )
                    await dead_letter(record, "decide_failed", f"{type(exc).__name__}: {exc}")
                    continue
                if not entries:
                    stats.repeats += 1
                    kinds["repeat"] += 1
                else:
                    changed.add(command.key)
                for entry, encoded_entry in zip(entries, encoded, strict=True):
                    evolve(state, entry)
                    out.append(encoded_entry)
                    decided.entries.append(entry)
                    kinds[event_type(type(entry))] += 1
                    if isinstance(entry, OperationRejected):
                        stats.rejected += 1
                        metrics.rejected(entry)
            decided.offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "")
        return decided

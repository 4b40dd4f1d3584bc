"""Starting the billing worker from snapshots instead of the whole ledger.

Writing (the worker, every ``snapshot_every`` entries of a partition): each user whose state
changed since the last round gets a ``billing.user_state_snapshot`` (keyed by user id, so
the compacted ``bot.billing.snapshots`` keeps the newest) covering the ledger partition's end
offset ``X``; then a ``billing.snapshot_round`` for the partition says "every user with
entries below ``X`` has a snapshot covering them". Rounds are keyed per day, so one a day
is kept.

Restoring a partition:

1. read its snapshots and rounds; no round: fold the ledger from offset 0 (as before);
2. take the latest round ``R``, and the latest round ``B`` at least
   :data:`RESTORE_WINDOW` older than ``R``;
3. states come from the user snapshots (whatever round wrote them);
4. read the ledger from ``B``'s offset (0 without ``B``) to the end: an entry below its
   user's snapshot offset only re-teaches its operation id
   (:func:`actors.billing.ledger.restore_operation`); later entries are folded.

Start-up therefore reads the snapshots plus one retention window of the ledger, however long
the log. Operation ids older than the window re-read are not re-learnt: each restored state's
horizon is raised to the start of that window, so a command older than it is refused
(``operation_expired``), never applied twice. Every user the tail fold touched is marked
changed, so the next round snapshots it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from actors.billing.ledger_fold import evolve, restore_operation
from actors.billing.ledger_state import OPERATION_RETENTION, BillingState
from actors.billing.snapshots import from_snapshot, to_snapshot
from events.billing import SnapshotRound, UserStateSnapshot
from events.catalog import BILLING_LEDGER, BILLING_SNAPSHOTS, BillingSnapshot, LedgerRecord
from events.codec import Codec, DecodeError, codec_for
from events.envelope import new_envelope
from infra.billing.ledger_log import FETCH_RECORDS, LedgerCorrupt, decode_for_fold
from infra.kafka.read_to_end import read_to_end

log = logging.getLogger(__name__)

RESTORE_WINDOW: Final = OPERATION_RETENTION + timedelta(days=1)
"""How much ledger before the latest round is re-read for operation ids (one retention
window, plus a day because rounds are kept one a day)."""
CLOCK_SKEW: Final = timedelta(hours=1)
"""Entries decided this long after a round was written are certainly after its offset."""
PRODUCER: Final = "billing"
ROUND_ENVELOPE_KEY: Final = "0"
"""A round's envelope key (no user has id 0); its Kafka key is ``round:{partition}:{day}``,
so compaction keeps one round per partition and day."""

States = dict[str, BillingState]
_SNAPSHOTS: Final[Codec[BillingSnapshot]] = codec_for(BILLING_SNAPSHOTS)
_LEDGER: Final[Codec[LedgerRecord]] = codec_for(BILLING_LEDGER)


@dataclass(slots=True)
class Restored:
    """What a partition's restore produced, and what it cost."""

    states: States = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    """Users the tail fold touched (the next round must snapshot them)."""
    snapshots: int = 0
    relearnt: int = 0
    folded: int = 0
    start_offset: int = 0


async def restore_partitions(
    reader: AIOKafkaConsumer, snapshots_topic: str, ledger_topic: str, partitions: Iterable[int]
) -> dict[int, Restored]:
    """Per partition: the user states from the latest snapshots and the ledger's tail."""
    parts = list(partitions)
    found = await _read_snapshots(reader, snapshots_topic, parts)
    out: dict[int, Restored] = {}
    covers: dict[int, dict[str, int]] = {}
    starts: dict[TopicPartition, int] = {}
    for p in parts:
        users, rounds = found[p]
        restored = out[p] = Restored()
        covers[p] = {}
        start, window_start = _start_of(rounds)
        restored.start_offset = start
        for key, snap in users.items():
            state = from_snapshot(snap.state)
            if window_start is not None and (state.horizon is None or state.horizon < window_start):
                state.horizon = window_start
            restored.states[key] = state
            covers[p][key] = snap.covers_offset
        restored.snapshots = len(users)
        starts[TopicPartition(ledger_topic, p)] = start
    await _read_ledger(reader, starts, out, covers)
    return out


def _start_of(rounds: list[SnapshotRound]) -> tuple[int, datetime | None]:
    """Where to start reading the ledger, and the start of the re-read window."""
    if not rounds:
        return 0, None
    latest = max(rounds, key=lambda r: r.covers_offset)
    floor = latest.occurred_at - RESTORE_WINDOW
    older = [r for r in rounds if r.occurred_at <= floor]
    if not older:
        return 0, None
    base = max(older, key=lambda r: r.covers_offset)
    return base.covers_offset, base.occurred_at + CLOCK_SKEW


async def _read_snapshots(
    reader: AIOKafkaConsumer, topic: str, parts: list[int]
) -> dict[int, tuple[dict[str, UserStateSnapshot], list[SnapshotRound]]]:
    """Per partition: its user snapshots and rounds (all partitions read together, empty
    ones not at all: see :mod:`infra.kafka.read_to_end`)."""
    found: dict[int, tuple[dict[str, UserStateSnapshot], list[SnapshotRound]]] = {
        p: ({}, []) for p in parts
    }
    read = await read_to_end(reader, [TopicPartition(topic, p) for p in parts])
    async for tp, records in read.batches(max_records=FETCH_RECORDS):
        users, rounds = found[tp.partition]
        for record in records:
            if record.value is None:
                continue
            try:
                value = _SNAPSHOTS.decode(record.value, record.headers)
            except DecodeError as exc:  # a snapshot is a cache: the ledger stays the truth
                log.warning("billing snapshot at offset %d skipped: %s", record.offset, exc)
                continue
            if isinstance(value, UserStateSnapshot):
                users[value.key] = value
            else:
                rounds.append(value)
    for users, rounds in found.values():
        if max((r.covers_offset for r in rounds), default=-1) < 0:
            users.clear()  # no complete round: user snapshots alone prove nothing
    return found


async def _read_ledger(
    reader: AIOKafkaConsumer,
    starts: dict[TopicPartition, int],
    out: dict[int, Restored],
    covers: dict[int, dict[str, int]],
) -> None:
    read = await read_to_end(reader, starts, starts=starts)
    async for tp, records in read.batches(max_records=FETCH_RECORDS):
        restored, covered = out[tp.partition], covers[tp.partition]
        states = restored.states
        for record in records:
            try:
                entry = decode_for_fold(record.value)
            except DecodeError as exc:
                raise LedgerCorrupt(
                    f"{tp.topic}[{tp.partition}]@{record.offset}: {exc.reason}: {exc.detail}"
                ) from exc
            key = entry.key
            state = states.get(key)
            if state is None:
                state = states[key] = BillingState()
            if record.offset < covered.get(key, 0):
                restore_operation(state, entry)
                restored.relearnt += 1
            else:
                evolve(state, entry)
                restored.changed.add(key)
                restored.folded += 1


async def write_round(
    producer: AIOKafkaProducer,
    snapshots_topic: str,
    partition: int,
    covers_offset: int,
    states: dict[str, BillingState],
    changed: Iterable[str],
    now: datetime,
) -> int:
    """Snapshot ``changed`` users of ``partition`` as covering ``covers_offset``, then the
    round; waits for every ack. Returns how many users were written."""
    futures = []
    written = 0
    for key in changed:
        state = states.get(key)
        if state is None:
            continue
        snap = UserStateSnapshot(
            **new_envelope(key=key, producer=PRODUCER),
            user_id=int(key),
            ledger_partition=partition,
            covers_offset=covers_offset,
            state=to_snapshot(state),
        )
        futures.append(await _send(producer, snapshots_topic, partition, snap))
        written += 1
    for future in futures:
        await future
    done = SnapshotRound(
        **new_envelope(key=ROUND_ENVELOPE_KEY, producer=PRODUCER, occurred_at=now),
        ledger_partition=partition,
        covers_offset=covers_offset,
        users=written,
    )
    round_key = f"round:{partition}:{now:%Y-%m-%d}".encode()
    await (await _send(producer, snapshots_topic, partition, done, key=round_key))
    return written


async def _send(
    producer: AIOKafkaProducer,
    topic: str,
    partition: int,
    record: BillingSnapshot,
    *,
    key: bytes | None = None,
) -> asyncio.Future[Any]:
    own_key, value, headers = _SNAPSHOTS.encode(record)
    key = key or own_key
    future: asyncio.Future[Any] = await producer.send(
        topic, value, key=key, headers=headers, partition=partition
    )
    return future

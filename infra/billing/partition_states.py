"""The billing worker's state: per assigned partition, every user's :class:`BillingState`.

A partition's states are restored from the latest snapshots in ``bot.billing.snapshots``
plus the ledger's tail (:mod:`infra.billing.snapshots`) when it is assigned, dropped when it
is revoked, and snapshotted again every ``snapshot_every`` entries so the next restore
stays short. The worker (:mod:`infra.billing.worker`) decides against these states and
tells :meth:`PartitionStates.appended` what it wrote.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from actors.billing.ledger_state import BillingState
from infra.billing import metrics
from infra.billing.ledger_log import States
from infra.billing.snapshots import restore_partitions, write_round

log = logging.getLogger(__name__)


class FoldFailed(Exception):
    """Assigned partitions could not be folded from the ledger: the worker must stop (its
    supervisor restarts it) rather than run with partitions that have no state."""


async def fold_with_retries(
    fold: Callable[[list[int]], Awaitable[None]],
    partitions: list[int],
    attempts: int,
    backoff: float,
) -> None:
    """``fold(partitions)``, retried up to ``attempts`` times with a doubling wait."""
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            await fold(partitions)
            return
        except Exception:
            if attempt == attempts:
                raise
            log.exception(
                "billing fold failed (attempt %d of %d); retrying in %.1f s",
                attempt,
                attempts,
                delay,
            )
            await asyncio.sleep(delay)
            delay *= 2


@dataclass
class WorkerStats:
    commands: int = 0
    entries: int = 0
    repeats: int = 0
    rejected: int = 0
    dead_letters: int = 0
    batches: int = 0
    folded: int = 0
    snapshots_restored: int = 0
    snapshot_rounds: int = 0
    tail_folded: int = 0
    ids_relearnt: int = 0
    started_at: float = field(default_factory=time.monotonic)


class PartitionStates:
    """Per assigned partition, per user key: the billing state (see the module doc)."""

    def __init__(
        self,
        ledger_topic: str,
        snapshots_topic: str,
        stats: WorkerStats,
        *,
        snapshot_every: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._ledger_topic = ledger_topic
        self._snapshots_topic = snapshots_topic
        self.stats = stats
        self.snapshot_every = snapshot_every
        self._clock = clock
        self.states: dict[int, States] = {}
        self.changed: dict[int, set[str]] = {}
        """Per partition: users whose state changed since the last snapshot round."""
        self.since_round: dict[int, int] = {}

    def state_of(self, key: str) -> BillingState | None:
        for states in self.states.values():
            if key in states:
                return states[key]
        return None

    def balances_below_zero(self) -> int:
        """Users whose balance is negative (read from the metrics thread: each container is
        copied in one step before it is walked, so the loop may change it meanwhile)."""
        return sum(
            1
            for states in list(self.states.values())
            for s in list(states.values())
            if s.balance < 0
        )

    def drop(self, partitions: list[int]) -> None:
        """Forget revoked partitions."""
        for partition in partitions:
            self.states.pop(partition, None)
            self.changed.pop(partition, None)
            self.since_round.pop(partition, None)

    def appended(self, partition: int, entries: int) -> None:
        """``entries`` ledger entries of ``partition`` were written (toward the next round)."""
        self.since_round[partition] = self.since_round.get(partition, 0) + entries

    def snapshot_due(self) -> bool:
        return any(n >= self.snapshot_every > 0 for n in self.since_round.values())

    async def restore(self, reader: AIOKafkaConsumer, partitions: list[int]) -> None:
        """Restore ``partitions`` from the latest snapshots and the ledger's tail."""
        started = time.monotonic()
        restored = await restore_partitions(
            reader, self._snapshots_topic, self._ledger_topic, partitions
        )
        read = sum(r.folded + r.relearnt for r in restored.values())
        duplicates = sum(s.duplicate_entries for r in restored.values() for s in r.states.values())
        for partition, found in restored.items():
            self.states[partition] = found.states
            self.changed[partition] = found.changed
            self.since_round[partition] = found.folded
        self.stats.folded += read
        self.stats.snapshots_restored += sum(r.snapshots for r in restored.values())
        self.stats.tail_folded += sum(r.folded for r in restored.values())
        self.stats.ids_relearnt += sum(r.relearnt for r in restored.values())
        metrics.FOLDED.inc(read)
        metrics.DUPLICATE_ENTRIES.set(duplicates)
        log.info(
            "billing partitions restored from snapshots and the ledger",
            extra={
                "fields": {
                    "partitions": sorted(partitions),
                    "snapshots": sum(r.snapshots for r in restored.values()),
                    "ledger_from": {p: r.start_offset for p, r in restored.items()},
                    "entries_folded": sum(r.folded for r in restored.values()),
                    "ids_relearnt": sum(r.relearnt for r in restored.values()),
                    "duplicate_entries": duplicates,
                    "seconds": round(time.monotonic() - started, 3),
                }
            },
        )

    async def maybe_snapshot(self, reader: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        """A snapshot round for each partition that took ``snapshot_every`` entries since
        its last one (see :mod:`infra.billing.snapshots`); a failure is logged, not fatal:
        the ledger stays the truth and the next round retries."""
        if self.snapshot_every <= 0:
            return
        for partition, count in list(self.since_round.items()):
            if count < self.snapshot_every or partition not in self.states:
                continue
            tp = TopicPartition(self._ledger_topic, partition)
            try:
                end = (await reader.end_offsets([tp]))[tp]
                changed = self.changed.get(partition, set())
                written = await write_round(
                    producer,
                    self._snapshots_topic,
                    partition,
                    end,
                    self.states[partition],
                    changed,
                    self._clock(),
                )
            except Exception:
                log.exception("billing snapshot round for partition %d failed", partition)
                continue
            self.changed[partition] = set()
            self.since_round[partition] = 0
            self.stats.snapshot_rounds += 1
            log.info(
                "billing snapshot round written",
                extra={"fields": {"partition": partition, "covers": end, "users": written}},
            )

"""The billing actor: a consumer-group worker over ``bot.billing.commands``.

For each assigned partition its state is the fold of the same partition of
``bot.billing.ledger`` (the two topics are co-partitioned: same key, same partition count,
and entries are written to the partition of the command that caused them), restored from the
latest snapshots in ``bot.billing.snapshots`` plus the ledger's tail (see
:mod:`infra.billing.snapshots`; a round of snapshots is written every ``snapshot_every``
entries of a partition). Admin operations are decided against ``privileged_user_ids``
(``PRIVILEGED_USER_IDS``). It then loops:

1. take up to ``batch_max`` commands (``getmany``);
2. decide each against the in-memory state of its user (:func:`actors.billing.ledger.decide`)
   and fold the resulting entries into that state;
3. produce all entries and wait for every ack;
4. commit the commands' offsets.

A crash between 3 and 4 redelivers the batch; the restarted worker has folded the entries
from step 3, so the repeated operation ids are no-ops: nothing is charged twice. A failure
in step 3 re-synchronises: the state is folded again from the ledger and the consumer
rewinds to its committed offsets. A command whose decision raises is dead-lettered alone.
A fold that fails on assignment is retried with backoff, then :class:`FoldFailed` is raised
from the main loop (the process exits; its supervisor restarts it): a worker never runs with
assigned partitions that have no state.

The pieces: :mod:`infra.billing.partition_states` (the states, their restore and
snapshots), :mod:`infra.billing.batch` (deciding a batch), :mod:`infra.billing.command_check`
(which records may be decided here), :mod:`infra.billing.ledger_append` (appending).

Why aiokafka rather than a Faust agent: the state must be the ledger itself, folded on
assignment before any command is processed; aiokafka awaits our rebalance callbacks before
fetching, and ``getmany`` + one commit per batch is what reaches the throughput target.
A Faust agent would add a table changelog that can disagree with the ledger, per-event
acking overhead, and its own recovery step we would have to bypass.

Test-only crash hook: with ``CLAUDEGRAM_TEST_CRASH=billing-after-append`` the process
calls ``os._exit(137)`` right after the first batch's entries are acknowledged and before
its offsets are committed (the kill test uses it). Never set it elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord

from actors.billing.ledger import decide as decide_entries
from actors.billing.ledger_state import BillingState, Entry
from actors.billing.subsidy import NO_SUBSIDY, SubsidySchedule
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    BILLING_SNAPSHOTS,
    BillingCommand,
    with_prefix,
)
from events.keys import user_key
from infra.billing import metrics
from infra.billing.batch import BatchDecider, Decider, fill_batch
from infra.billing.command_check import CommandCheck, TopologyError, check_copartitioned
from infra.billing.ledger_append import append_entries
from infra.billing.money_metrics import BALANCES_BELOW_ZERO, observe_entries
from infra.billing.partition_states import (
    FoldFailed,
    PartitionStates,
    WorkerStats,
    fold_with_retries,
)
from infra.billing.views import CacheSubsidyView
from infra.bootstrap import Root
from infra.kafka.assignment_readiness import track_assignment
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.dead_letter import send_to_dead_letter
from infra.kafka.topic_admin import ensure_topics
from infra.metrics import DEAD_LETTERS
from infra.service_health import Readiness

log = logging.getLogger(__name__)

__all__ = ["BillingWorker", "FoldFailed", "TopologyError", "run_billing_worker"]

GROUP_ID: Final = "billing-actor"
CRASH_AFTER_APPEND: Final = "billing-after-append"
"""The ``CLAUDEGRAM_TEST_CRASH`` point: exit after appending entries, before the commit."""
BILLING_TOPICS: Final = (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    BILLING_SNAPSHOTS,
    BILLING_COMMANDS.dead_letter(),
)
DEFAULT_BATCH: Final = 2000
FOLD_ATTEMPTS: Final = 3
SNAPSHOT_EVERY: Final = 100_000
"""Ledger entries appended to a partition between two snapshot rounds (0: never)."""
FOLD_BACKOFF_SECONDS: Final = 0.5
"""First wait between fold attempts on assignment (doubles each time)."""
SUBSIDY_READ_TIMEOUT: Final = 10.0
"""Seconds a batch waits for the cache-subsidy schedule; unread by then, the batch is held
and comes again (never priced by a schedule that may miss a switch: a ledger entry is
final). The read is made before the worker's lock: a revocation never waits for it."""
SUBSIDY_RETRY_SECONDS: Final = 0.5
"""The pause before a held batch is fetched again."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BillingWorker:
    """One member of the billing consumer group."""

    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        *,
        topic_prefix: str = "",
        group_id: str | None = None,
        batch_max: int = DEFAULT_BATCH,
        clock: Callable[[], datetime] = _utc_now,
        crash_after_append: bool = False,
        decide: Decider | None = None,
        privileged_user_ids: frozenset[int] = frozenset(),
        fold_attempts: int = FOLD_ATTEMPTS,
        fold_backoff: float = FOLD_BACKOFF_SECONDS,
        snapshot_every: int = SNAPSHOT_EVERY,
        ensure_topics: bool = True,
        readiness: Readiness | None = None,
        subsidy: CacheSubsidyView | None = None,
    ) -> None:
        self._readiness = readiness
        self._bootstrap = bootstrap
        self._ensure_topics = ensure_topics
        self._profile = profile
        self._prefix = topic_prefix
        self._commands_topic = with_prefix(BILLING_COMMANDS, topic_prefix).name
        self._ledger_topic = with_prefix(BILLING_LEDGER, topic_prefix).name
        self._dlq_topic = self._commands_topic + ".dlq"
        self._snapshots_topic = with_prefix(BILLING_SNAPSHOTS, topic_prefix).name
        self._group_id = group_id or topic_prefix + GROUP_ID
        self._batch_max = batch_max
        self._clock = clock
        self._privileged = privileged_user_ids
        self._schedule: SubsidySchedule = NO_SUBSIDY
        self._subsidy: CacheSubsidyView | None = subsidy
        """The cache-subsidy schedule's reader (made at start unless given)."""
        self._subsidy_unread = 0
        """Batches held since the schedule was last read."""
        self._decide: Decider = decide or self._decide_entries
        self._fold_attempts = max(1, fold_attempts)
        self._fold_backoff = fold_backoff
        self._failure: FoldFailed | None = None
        self._check = CommandCheck()
        self._crash_after_append = crash_after_append
        self._generation = 0
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self.stats = WorkerStats()
        self._ledger = PartitionStates(
            self._ledger_topic,
            self._snapshots_topic,
            self.stats,
            snapshot_every=snapshot_every,
            clock=clock,
        )
        self._decider = BatchDecider(self._ledger, self._decide, self._check, self.stats)
        BALANCES_BELOW_ZERO.set_function(self._ledger.balances_below_zero)
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None

    def _decide_entries(
        self, state: BillingState, command: BillingCommand, now: datetime
    ) -> list[Entry]:
        return decide_entries(
            state, command, now, privileged=self._privileged, subsidy=self._schedule
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def ready(self) -> asyncio.Event:
        """Set once partitions are assigned and their state folded from the ledger."""
        return self._ready

    def state_of(self, user_id: int) -> BillingState | None:
        """The in-memory state of a user on an assigned partition (tests, diagnostics)."""
        return self._ledger.state_of(user_key(user_id))

    async def run(self, stop: asyncio.Event) -> None:
        await self._start()
        try:
            while not stop.is_set():
                self._raise_failure()
                await self._step(stop)
        finally:
            await self._close()

    async def _start(self) -> None:
        if self._ensure_topics:
            report = await ensure_topics(self._bootstrap, BILLING_TOPICS, name_prefix=self._prefix)
            if not report.ok:
                raise TopologyError("; ".join(str(m) for m in report.mismatches))
        self._producer = make_producer(self._bootstrap, self._profile)
        await self._producer.start()
        self._reader = make_consumer(
            self._bootstrap, self._profile, [], group_id=None, max_partition_fetch_bytes=8 << 20
        )
        await self._reader.start()
        self._check.partitions = await check_copartitioned(
            self._reader, self._commands_topic, self._ledger_topic
        )
        self._consumer = make_consumer(
            self._bootstrap,
            self._profile,
            [],
            group_id=self._group_id,
            max_partition_fetch_bytes=4 << 20,
        )
        await self._consumer.start()
        self._consumer.subscribe(
            [self._commands_topic],
            listener=track_assignment(_Listener(self), self._readiness, "billing-worker"),
        )
        if self._subsidy is None:
            self._subsidy = CacheSubsidyView(
                self._bootstrap,
                self._profile,
                topic_prefix=self._prefix,
                privileged=self._privileged,
            )

    async def _close(self) -> None:
        if self._subsidy is not None:
            await self._subsidy.close()
        for client in (self._consumer, self._reader):
            if client is not None:
                await client.stop()
        if self._producer is not None:
            await self._producer.stop()

    # ------------------------------------------------------------------ rebalance

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        # aiokafka logs and swallows what a rebalance callback raises: a failure here is
        # recorded and raised by the main loop, never left as partitions without state.
        async with self._lock:
            self._generation += 1
            partitions = [tp.partition for tp in assigned if tp.topic == self._commands_topic]
            try:
                await fold_with_retries(
                    self._fold, partitions, self._fold_attempts, self._fold_backoff
                )
            except Exception as exc:
                self._failure = FoldFailed(
                    f"folding assigned billing partitions {sorted(partitions)} from "
                    f"{self._ledger_topic} failed {self._fold_attempts} times: {exc!r}"
                )
                self._failure.__cause__ = exc
                log.critical("%s; the billing worker stops", self._failure)
                return
            self._ready.set()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:  # waits for an in-flight batch to be appended and committed
            self._generation += 1
            self._ledger.drop([tp.partition for tp in revoked])

    async def _fold(self, partitions: list[int]) -> None:
        assert self._reader is not None
        await self._ledger.restore(self._reader, partitions)

    async def _maybe_snapshot(self) -> None:
        assert self._reader is not None
        assert self._producer is not None
        await self._ledger.maybe_snapshot(self._reader, self._producer)

    # ------------------------------------------------------------------ processing

    async def _step(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None
        generation = self._generation
        batches = await self._consumer.getmany(timeout_ms=200, max_records=self._batch_max)
        self._raise_failure()  # the assignment that came with this fetch may have failed
        if not batches:
            if self._ledger.snapshot_due():
                async with self._lock:  # e.g. the first idle moment after a long fold
                    if generation == self._generation:
                        await self._maybe_snapshot()
            return
        await fill_batch(self._consumer, batches, self._batch_max)
        held = not await self._read_subsidy()
        async with self._lock:
            if generation != self._generation or not self._owns(batches):
                # The assignment changed while fetching: these records may predate it.
                # Rewind what is still ours to the committed offsets; they come again.
                await self._rewind([tp for tp in batches if tp.partition in self._ledger.states])
                return
            if held:
                for tp, records in batches.items():  # they come again, nothing decided
                    self._consumer.seek(tp, records[0].offset)
            else:
                try:
                    # Per-command failures are dead-lettered inside; what escapes is a failed
                    # append, dead-letter or commit: retry the batch from the ledger.
                    await self._process(batches)
                except Exception:
                    log.exception("billing append/commit failed; re-folding state and rewinding")
                    await self._resync()
                    return
                await self._maybe_snapshot()
        if held:
            await asyncio.sleep(SUBSIDY_RETRY_SECONDS)

    def _owns(self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> bool:
        return all(tp.partition in self._ledger.states for tp in batches)

    async def _process(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        assert self._consumer is not None
        assert self._producer is not None
        started = time.monotonic()
        decided = await self._decider.decide(batches, self._clock(), self._dead_letter)
        outgoing = decided.outgoing
        appended = await append_entries(self._producer, self._profile, self._ledger_topic, outgoing)
        self.stats.entries += appended
        for partition, records in outgoing.items():
            self._ledger.appended(partition, len(records))
        if appended and self._crash_after_append:
            log.warning("test crash hook %s: exiting before the commit", CRASH_AFTER_APPEND)
            os._exit(137)
        await self._consumer.commit(decided.offsets)
        self.stats.batches += 1
        metrics.count_outcomes(decided.kinds)
        observe_entries(decided.entries)
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)

    async def _read_subsidy(self) -> bool:
        """Read the cache-write subsidy as every change acknowledged so far sets it (one
        ListOffsets round trip per batch); False, logged, when it cannot be read: the batch
        waits rather than be priced by a schedule that may miss a switch."""
        if self._subsidy is None:
            return True
        try:
            async with asyncio.timeout(SUBSIDY_READ_TIMEOUT):
                self._schedule = await self._subsidy.current()
        except Exception as exc:
            if not self._subsidy_unread:  # once per spell, not every half second
                log.warning(
                    "cache subsidy not read; batches are held until it is",
                    extra={"fields": {"error": f"{type(exc).__name__}: {exc}"}},
                )
            self._subsidy_unread += 1
            metrics.SUBSIDY_UNREAD.inc()
            return False
        if self._subsidy_unread:
            log.info("cache subsidy read again after %d held batches", self._subsidy_unread)
            self._subsidy_unread = 0
        return True

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, detail: str
    ) -> None:
        """Park ``record`` unchanged in the dead-letter topic (acked before returning)."""
        assert self._producer is not None
        await send_to_dead_letter(self._producer, record, reason, detail, dlq_topic=self._dlq_topic)
        self.stats.dead_letters += 1
        DEAD_LETTERS.labels(BILLING_COMMANDS.name).inc()
        metrics.COMMANDS.labels("dead_letter").inc()

    async def _resync(self) -> None:
        """After a failed append: state from the ledger again, consumer back to committed."""
        partitions = sorted(self._ledger.states)
        self._ledger.states.clear()
        await self._fold(partitions)
        await self._rewind([TopicPartition(self._commands_topic, p) for p in partitions])

    async def _rewind(self, tps: list[TopicPartition]) -> None:
        assert self._consumer is not None
        for tp in tps:
            committed = await self._consumer.committed(tp)
            if committed is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: BillingWorker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._worker._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._worker._on_assigned(assigned)


async def run_billing_worker(
    root: Root,
    stop: asyncio.Event,
    *,
    topic_prefix: str | None = None,
    batch_max: int = DEFAULT_BATCH,
) -> None:
    """``botctl billing-worker``: run one billing group member until ``stop`` is set."""
    prefix = root.settings.topic_prefix if topic_prefix is None else topic_prefix
    report = await root.ensure_topics(BILLING_TOPICS, name_prefix=prefix)
    if not report.ok:
        raise TopologyError("; ".join(str(m) for m in report.mismatches))
    worker = BillingWorker(
        root.bootstrap,
        await root.profile(),
        topic_prefix=prefix,
        batch_max=batch_max,
        privileged_user_ids=root.settings.privileged_user_ids,
        crash_after_append=root.settings.crash_after(CRASH_AFTER_APPEND) > 0,
        ensure_topics=False,
        readiness=root.readiness,
    )
    await worker.run(stop)

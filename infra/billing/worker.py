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
import functools
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from actors.billing.ledger import BillingState, evolve
from actors.billing.ledger import decide as decide_entries
from events.billing import OperationRejected
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    BILLING_SNAPSHOTS,
    BillingCommand,
    LedgerRecord,
    with_prefix,
)
from events.codec import Codec, DecodeError, EncodedRecord, codec_for
from events.envelope import event_type
from events.keys import user_key
from infra.billing import metrics
from infra.billing.ledger_log import States
from infra.billing.money_metrics import observe_entries
from infra.billing.snapshots import restore_partitions, write_round
from infra.bootstrap import Root
from infra.kafka.clients import make_consumer, make_producer, refresh_partitions
from infra.kafka.compat import BrokerProfile
from infra.kafka.dead_letter import send_to_dead_letter
from infra.kafka.topic_admin import ensure_topics
from infra.metrics import DEAD_LETTERS, LEDGER_ENTRIES

log = logging.getLogger(__name__)

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
FILL_SECONDS: Final = 0.02
FILL_POLL_MS: Final = 5
PARTITION_CACHE_SIZE: Final = 100_000
_PARTITIONER: Final = DefaultPartitioner()
FOLD_ATTEMPTS: Final = 3
SNAPSHOT_EVERY: Final = 100_000
"""Ledger entries appended to a partition between two snapshot rounds (0: never)."""
FOLD_BACKOFF_SECONDS: Final = 0.5
"""First wait between fold attempts on assignment (doubles each time)."""


class TopologyError(Exception):
    """The command and ledger topics are not co-partitioned."""


class FoldFailed(Exception):
    """Assigned partitions could not be folded from the ledger: the worker must stop (its
    supervisor restarts it) rather than run with partitions that have no state."""


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


Decider = Callable[[BillingState, BillingCommand, datetime], list[LedgerRecord]]
"""``actors.billing.ledger.decide``'s shape (tests inject a failing one)."""


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
    ) -> None:
        self._bootstrap = bootstrap
        self._ensure_topics = ensure_topics
        self._profile = profile
        self._prefix = topic_prefix
        self._commands_topic = with_prefix(BILLING_COMMANDS, topic_prefix).name
        self._ledger_topic = with_prefix(BILLING_LEDGER, topic_prefix).name
        self._dlq_topic = self._commands_topic + ".dlq"
        self._snapshots_topic = with_prefix(BILLING_SNAPSHOTS, topic_prefix).name
        self._snapshot_every = snapshot_every
        self._changed: dict[int, set[str]] = {}
        """Per partition: users whose state changed since the last snapshot round."""
        self._since_round: dict[int, int] = {}
        self._group_id = group_id or topic_prefix + GROUP_ID
        self._batch_max = batch_max
        self._clock = clock
        self._decide: Decider = decide or functools.partial(
            decide_entries, privileged=privileged_user_ids
        )
        self._fold_attempts = max(1, fold_attempts)
        self._fold_backoff = fold_backoff
        self._failure: FoldFailed | None = None
        self._partition_count = 0
        self._partition_of_key: dict[str, int] = {}
        self._crash_after_append = crash_after_append
        self._commands_codec: Codec[BillingCommand] = codec_for(BILLING_COMMANDS)
        self._ledger_codec: Codec[LedgerRecord] = codec_for(BILLING_LEDGER)
        self._states: dict[int, States] = {}
        self._generation = 0
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self.stats = WorkerStats()
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def ready(self) -> asyncio.Event:
        """Set once partitions are assigned and their state folded from the ledger."""
        return self._ready

    def state_of(self, user_id: int) -> BillingState | None:
        """The in-memory state of a user on an assigned partition (tests, diagnostics)."""
        key = user_key(user_id)
        for states in self._states.values():
            if key in states:
                return states[key]
        return None

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
        await self._check_copartitioned()
        self._consumer = make_consumer(
            self._bootstrap,
            self._profile,
            [],
            group_id=self._group_id,
            max_partition_fetch_bytes=4 << 20,
        )
        await self._consumer.start()
        self._consumer.subscribe([self._commands_topic], listener=_Listener(self))

    async def _check_copartitioned(self) -> None:
        assert self._reader is not None
        commands = await self._partitions_of(self._commands_topic)
        ledger = await self._partitions_of(self._ledger_topic)
        self._partition_count = commands
        if commands != ledger:
            raise TopologyError(
                f"{self._commands_topic} has {commands} partitions, {self._ledger_topic} has "
                f"{ledger}: they must be equal for the ledger fold to hold each user's entries"
            )

    async def _partitions_of(self, topic: str) -> int:
        assert self._reader is not None
        parts = await refresh_partitions(self._reader, topic, timeout=30.0)
        if parts:
            return len(parts)
        raise TopologyError(f"topic {topic} has no partitions")

    async def _close(self) -> None:
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
                await self._fold_with_retries(partitions)
            except Exception as exc:
                self._failure = FoldFailed(
                    f"folding assigned billing partitions {sorted(partitions)} from "
                    f"{self._ledger_topic} failed {self._fold_attempts} times: {exc!r}"
                )
                self._failure.__cause__ = exc
                log.critical("%s; the billing worker stops", self._failure)
                return
            self._ready.set()

    async def _fold_with_retries(self, partitions: list[int]) -> None:
        delay = self._fold_backoff
        for attempt in range(1, self._fold_attempts + 1):
            try:
                await self._fold(partitions)
                return
            except Exception:
                if attempt == self._fold_attempts:
                    raise
                log.exception(
                    "billing fold failed (attempt %d of %d); retrying in %.1f s",
                    attempt,
                    self._fold_attempts,
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:  # waits for an in-flight batch to be appended and committed
            self._generation += 1
            for tp in revoked:
                self._states.pop(tp.partition, None)
                self._changed.pop(tp.partition, None)
                self._since_round.pop(tp.partition, None)

    async def _fold(self, partitions: list[int]) -> None:
        assert self._reader is not None
        started = time.monotonic()
        restored = await restore_partitions(
            self._reader, self._snapshots_topic, self._ledger_topic, partitions
        )
        read = sum(r.folded + r.relearnt for r in restored.values())
        duplicates = sum(s.duplicate_entries for r in restored.values() for s in r.states.values())
        for partition, found in restored.items():
            self._states[partition] = found.states
            self._changed[partition] = found.changed
            self._since_round[partition] = found.folded
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

    async def _maybe_snapshot(self) -> None:
        """A snapshot round for each partition that took ``snapshot_every`` entries since
        its last one (see :mod:`infra.billing.snapshots`); a failure is logged, not fatal:
        the ledger stays the truth and the next round retries."""
        if self._snapshot_every <= 0:
            return
        assert self._reader is not None
        assert self._producer is not None
        for partition, count in list(self._since_round.items()):
            if count < self._snapshot_every or partition not in self._states:
                continue
            tp = TopicPartition(self._ledger_topic, partition)
            try:
                end = (await self._reader.end_offsets([tp]))[tp]
                changed = self._changed.get(partition, set())
                written = await write_round(
                    self._producer,
                    self._snapshots_topic,
                    partition,
                    end,
                    self._states[partition],
                    changed,
                    self._clock(),
                )
            except Exception:
                log.exception("billing snapshot round for partition %d failed", partition)
                continue
            self._changed[partition] = set()
            self._since_round[partition] = 0
            self.stats.snapshot_rounds += 1
            log.info(
                "billing snapshot round written",
                extra={"fields": {"partition": partition, "covers": end, "users": written}},
            )

    # ------------------------------------------------------------------ processing

    async def _step(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None
        generation = self._generation
        batches = await self._consumer.getmany(timeout_ms=200, max_records=self._batch_max)
        self._raise_failure()  # the assignment that came with this fetch may have failed
        if not batches:
            if any(n >= self._snapshot_every > 0 for n in self._since_round.values()):
                async with self._lock:  # e.g. the first idle moment after a long fold
                    if generation == self._generation:
                        await self._maybe_snapshot()
            return
        await self._fill(batches)
        async with self._lock:
            if generation != self._generation or not self._owns(batches):
                # The assignment changed while fetching: these records may predate it.
                # Rewind what is still ours to the committed offsets; they come again.
                await self._rewind([tp for tp in batches if tp.partition in self._states])
                return
            try:
                # Per-command failures are dead-lettered inside; what escapes is a failed
                # append, dead-letter or commit: retry the batch from the ledger.
                await self._process(batches)
            except Exception:
                log.exception("billing append/commit failed; re-folding state and rewinding")
                await self._resync()
                return
            await self._maybe_snapshot()

    async def _fill(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        """Top a small batch up with what arrives within a few ms: one append round trip
        and one commit then serve many commands (fetches hand over a few records each)."""
        assert self._consumer is not None
        total = sum(len(r) for r in batches.values())
        deadline = time.monotonic() + FILL_SECONDS
        while total < self._batch_max and time.monotonic() < deadline:
            more = await self._consumer.getmany(
                timeout_ms=FILL_POLL_MS, max_records=self._batch_max - total
            )
            if not more:
                break
            for tp, records in more.items():
                batches.setdefault(tp, []).extend(records)
                total += len(records)

    def _owns(self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> bool:
        return all(tp.partition in self._states for tp in batches)

    async def _process(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        assert self._consumer is not None
        started = time.monotonic()
        now = self._clock()
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        outgoing: dict[int, list[EncodedRecord]] = {}
        kinds: Counter[str] = Counter()
        appended_entries: list[object] = []
        stats = self.stats
        encode = self._ledger_codec.encode
        for tp, records in batches.items():
            states = self._states[tp.partition]
            changed = self._changed.setdefault(tp.partition, set())
            out = outgoing.setdefault(tp.partition, [])
            for record in records:
                stats.commands += 1
                command = await self._decode(record)
                if command is None:
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
                    await self._dead_letter(record, "decide_failed", f"{type(exc).__name__}: {exc}")
                    continue
                if not entries:
                    stats.repeats += 1
                    kinds["repeat"] += 1
                if entries:
                    changed.add(command.key)
                for entry, encoded_entry in zip(entries, encoded, strict=True):
                    evolve(state, entry)
                    out.append(encoded_entry)
                    appended_entries.append(entry)
                    kinds[event_type(type(entry))] += 1
                    if isinstance(entry, OperationRejected):
                        self._rejected(entry)
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "")
        appended = await self._append(outgoing)
        stats.entries += appended
        for partition, records in outgoing.items():
            self._since_round[partition] = self._since_round.get(partition, 0) + len(records)
        if appended and self._crash_after_append:
            log.warning("test crash hook %s: exiting before the commit", CRASH_AFTER_APPEND)
            os._exit(137)
        await self._consumer.commit(offsets)
        stats.batches += 1
        self._count(kinds)
        observe_entries(appended_entries)
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)

    async def _append(self, outgoing: dict[int, list[EncodedRecord]]) -> int:
        """Produce the entries to their partitions and wait for every ack."""
        assert self._producer is not None
        producer = self._producer
        topic = self._ledger_topic
        futures = []
        if self._profile.tansu_workarounds:  # one record per batch (see infra.kafka.compat)
            for partition, records in outgoing.items():
                for key, value, headers in records:
                    futures.append(
                        await producer.send(
                            topic, value, key=key, headers=headers, partition=partition
                        )
                    )
        else:  # build the batches ourselves: far cheaper than one send() per record
            for partition, records in outgoing.items():
                batch = producer.create_batch()
                for key, value, headers in records:
                    if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                        futures.append(await producer.send_batch(batch, topic, partition=partition))
                        batch = producer.create_batch()
                        if (
                            batch.append(key=key, value=value, timestamp=None, headers=headers)
                            is None
                        ):
                            raise ValueError("a ledger entry is larger than a producer batch")
                if batch.record_count():
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
        if futures:
            await asyncio.gather(*futures)
        return sum(len(r) for r in outgoing.values())

    def _rejected(self, entry: OperationRejected) -> None:
        self.stats.rejected += 1
        metrics.REJECTIONS.labels(entry.reason).inc()
        log.warning(
            "billing operation rejected",
            extra={
                "fields": {
                    "user_id": entry.user_id,
                    "operation_id": entry.operation_id,
                    "reason": entry.reason,
                    "detail": entry.detail,
                }
            },
        )

    def _count(self, kinds: Counter[str]) -> None:
        for kind, n in kinds.items():
            if kind == "repeat":
                metrics.COMMANDS.labels("repeat").inc(n)
                continue
            LEDGER_ENTRIES.labels(kind).inc(n)
            outcome = "rejected" if kind == event_type(OperationRejected) else "applied"
            metrics.COMMANDS.labels(outcome).inc(n)

    async def _decode(self, record: ConsumerRecord[bytes, bytes]) -> BillingCommand | None:
        """The command, or ``None`` after parking the record in the dead-letter topic."""
        assert self._producer is not None
        try:
            command = self._commands_codec.decode(record.value)
        except DecodeError as exc:
            reason, detail = exc.reason, exc.detail
        else:
            expected = self._partition_for(command.key)
            if command.key != user_key(command.user_id):
                reason = "key_mismatch"
                detail = f"record key {command.key!r} is not the user id {command.user_id}"
            elif self._partition_count and record.partition != expected:
                # Its state lives on another partition: deciding it here would open a second
                # BillingState for the same user (double starter credit, split balance).
                reason = "wrong_partition"
                detail = (
                    f"key {command.key!r} hashes to partition {expected} of "
                    f"{self._partition_count}, the record is on partition {record.partition}"
                )
            else:
                return command
        await self._dead_letter(record, reason, detail)
        return None

    def _partition_for(self, key: str) -> int:
        """The partition our producers' partitioner (murmur2) puts ``key`` on."""
        partition = self._partition_of_key.get(key)
        if partition is None:
            if len(self._partition_of_key) >= PARTITION_CACHE_SIZE:
                self._partition_of_key.clear()
            partition = _PARTITIONER(key.encode(), list(range(self._partition_count)), None)
            self._partition_of_key[key] = partition
        return partition

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
        partitions = sorted(self._states)
        self._states.clear()
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
    )
    await worker.run(stop)

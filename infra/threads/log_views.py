"""The thread worker's :class:`infra.views.UserReads`: the ``users`` read model, plus the
records of other actors' logs the projector has not applied yet (:class:`LogViews`).

* :class:`TailPreferences`: each user's default model, personality, thinking level and
  language (chosen with ``/language``, and the Telegram one of their profile), from
  ``bot.users.events`` (the users actor is their single writer);
* :class:`TailBalances`: each user's balance, the ``balance_after`` of their newest
  ``bot.billing.ledger`` entry; it implements the :class:`~infra.views.BalanceReader` port
  (the soft check needs nothing more, so no history is kept per user).

Start-up is flat as the log grows: with a database, the views start where the ``users``
projection stands (its positions in ``projection_positions``, committed with its rows) and
tail the two topics from there; a user not seen in that tail is read from the ``users`` read
model (:class:`ReadModelSeed`) on first use. Both sides carry the log offset they reflect
(``balance_offset``/``profile_offset`` in the row, the record's offset in the tail) and the
newer one wins, so the view is the log's fold: the read model covers every offset below
the projector's position, the tail everything from it. Without a database, or when it
cannot be read at start, a partition is read from offset zero (no process runs so in
production: every service has the database). Views lag the log by milliseconds; the balance
check is a soft check by design (billing's ledger is exact).

Memory is bounded: each view keeps at most ``max_users`` entries (:data:`MAX_USERS` by
default, a few hundred bytes each), least recently used evicted first, but only entries the
read model already covers (read from it, or from a tail record below the projector's
current position, re-read when a view is over its bound): an evicted user is read from the
read model again on the next lookup, at an offset no older than the entry had. Entries the
projector has not applied yet stay until it has, and without a read model (no database at
start, no projector position yet) nothing is evicted: the view then is the log's only copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Protocol

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from actors.billing.reservations import Holds
from events.billing import LedgerEntry, OperationRejected
from events.catalog import BILLING_LEDGER, USERS_EVENTS, BillingCommand, TopicSpec, with_prefix
from events.codec import DecodeError, codec_for
from events.users import (
    LanguageChanged,
    ModelChanged,
    PersonalityChanged,
    ProfileUpdated,
    ThinkingChanged,
    UserRegistered,
)
from infra.kafka.clients import make_consumer, refresh_partitions
from infra.kafka.compat import BrokerProfile
from infra.kafka.read_to_end import PartitionRead, Record, follow, read_to_end
from infra.postgres import quote_schema
from infra.threads.user_entries import (
    FROM_READ_MODEL,
    MAX_USERS,
    UNKNOWN,
    Covered,
    UserEntries,
)
from infra.views import UserPreferences

log = logging.getLogger(__name__)

SEED_PROJECTION: Final = "users"
READ_TIMEOUT: Final = 2.0
BOUND_EVERY: Final = 10.0
"""Seconds between two checks of the bound."""


@dataclass(frozen=True, slots=True)
class UserRow:
    """The ``users`` read model's row: balance and profile, each with the offset it is at."""

    balance: Decimal | None
    balance_offset: int
    preferences: UserPreferences
    profile_offset: int


class UserRows(Protocol):
    """Where a view looks up a user it has not seen in its tail."""

    async def row(self, user_id: int) -> UserRow | None: ...


class TailPreferences:
    def __init__(self, max_users: int = MAX_USERS) -> None:
        self.users: dict[int, UserPreferences] = {}
        self.entries = UserEntries(max_users)
        self.rows: UserRows | None = None

    def get(self, user_id: int) -> UserPreferences:
        return self.users.get(user_id) or UserPreferences()

    async def preferences(self, user_id: int) -> UserPreferences:
        """:meth:`get`, reading the read model for a user the tail has not shown."""
        if user_id not in self.users and self.rows is not None:
            row = await self.rows.row(user_id)
            if row is not None and user_id not in self.users:
                self.users[user_id] = row.preferences
                self.entries.seen(user_id, FROM_READ_MODEL, row.profile_offset)
        self.entries.used(user_id)
        return self.get(user_id)

    def apply(self, record: Any, offset: int = UNKNOWN, partition: int = UNKNOWN) -> None:
        user_id = _settings_user(record)
        if user_id is None:
            return
        if offset != UNKNOWN and offset <= self.entries.offset(user_id):
            return  # the read model already had it
        self.entries.seen(user_id, partition, offset)
        settings = self.users.setdefault(user_id, UserPreferences())
        if isinstance(record, UserRegistered):
            settings.model = record.default_model
            settings.language_code = record.profile.language_code
        elif isinstance(record, ProfileUpdated):
            settings.language_code = record.profile.language_code
        elif isinstance(record, LanguageChanged):
            settings.language = record.language
        elif isinstance(record, ModelChanged):
            settings.model = record.model
        elif isinstance(record, PersonalityChanged):
            settings.personality = record.personality
        elif isinstance(record, ThinkingChanged):
            settings.thinking = record.level

    def evict(self, covered: Covered) -> int:
        """Keep within the bound (see :class:`UserEntries`); how many were evicted."""
        return self.entries.evict(covered, self.users)


def _settings_user(record: Any) -> int | None:
    if isinstance(record, UserRegistered | ProfileUpdated):
        return record.profile.user_id
    if isinstance(record, ModelChanged | PersonalityChanged | ThinkingChanged | LanguageChanged):
        return record.user_id
    return None


class TailBalances:
    """BalanceReader from the ledger: the newest ``balance_after`` per user, minus what the
    user's open reservations hold (usage of running calls: the *available* balance)."""

    def __init__(self, max_users: int = MAX_USERS) -> None:
        self.balances: dict[int, Decimal] = {}
        self.holds = Holds()
        self.entries = UserEntries(max_users)
        self.rows: UserRows | None = None

    def apply(self, record: Any, offset: int = UNKNOWN, partition: int = UNKNOWN) -> None:
        if isinstance(record, LedgerEntry) and not isinstance(record, OperationRejected):
            if offset != UNKNOWN and offset <= self.entries.offset(record.user_id):
                return
            self.entries.seen(record.user_id, partition, offset)
            self.balances[record.user_id] = record.balance_after
            self.holds.apply(record)

    def note(self, command: BillingCommand) -> None:
        """A reservation or release this worker just published (before the ledger has it)."""
        self.holds.note(command)

    async def balance(self, user_id: int) -> Decimal | None:
        found = self.balances.get(user_id)
        if found is None and self.rows is not None:
            row = await self.rows.row(user_id)
            if row is not None and row.balance is not None and user_id not in self.balances:
                self.balances[user_id] = found = row.balance
                self.entries.seen(user_id, FROM_READ_MODEL, row.balance_offset)
        if found is None:
            return None
        self.entries.used(user_id)
        return found - self.holds.held(user_id, datetime.now(UTC))

    def evict(self, covered: Covered) -> int:
        """Keep within the bound (see :class:`UserEntries`); how many were evicted. Open
        reservations are not entries: they end with their release."""
        return self.entries.evict(covered, self.balances)


class ReadModelSeed:
    """The ``users`` read model and the ``users`` projection's positions in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, *, schema: str = "public") -> None:
        self.pool = pool
        self.schema = quote_schema(schema)

    async def positions(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        """Where the users projection stands on ``topics`` (what its rows include)."""
        rows = await self.pool.fetch(
            f"SELECT topic, partition, next_offset FROM {self.schema}.projection_positions"
            " WHERE projection = $1 AND topic = ANY($2::text[])",
            SEED_PROJECTION,
            list(topics),
            timeout=READ_TIMEOUT,
        )
        return {TopicPartition(r["topic"], r["partition"]): int(r["next_offset"]) for r in rows}

    async def row(self, user_id: int) -> UserRow | None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                found = await self.pool.fetchrow(
                    "SELECT balance, balance_offset, default_model, personality, thinking,"
                    " language, language_code, profile_offset"
                    f" FROM {self.schema}.users WHERE user_id = $1",
                    user_id,
                )
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning("users read model unavailable: %s", exc)
            return None
        if found is None:
            return None
        return UserRow(
            balance=found["balance"],
            balance_offset=_offset(found["balance_offset"]),
            preferences=UserPreferences(
                found["default_model"],
                found["personality"],
                found["thinking"],
                found["language"],
                found["language_code"],
            ),
            profile_offset=_offset(found["profile_offset"]),
        )


def _offset(value: int | None) -> int:
    return UNKNOWN if value is None else int(value)


class LogViews:
    """The thread worker's :class:`infra.views.UserReads`: one group-less consumer feeding the
    views above, from the projector's positions (with a :class:`ReadModelSeed`), or from
    offset zero where there is no database (tests, benches)."""

    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        *,
        topic_prefix: str = "",
        preferences: TailPreferences | None = None,
        balances: TailBalances | None = None,
        seed: ReadModelSeed | None = None,
        max_users: int = MAX_USERS,
        bound_every: float = BOUND_EVERY,
    ) -> None:
        self.preferences_view = preferences or TailPreferences(max_users)
        self.balances = balances or TailBalances(max_users)
        self.seed = seed
        self.bound_every = bound_every
        sources: tuple[TopicSpec[Any], ...] = (USERS_EVENTS, BILLING_LEDGER)
        self._specs: dict[str, TopicSpec[Any]] = {
            with_prefix(spec, topic_prefix).name: spec for spec in sources
        }
        self._users_topic = with_prefix(USERS_EVENTS, topic_prefix).name
        self._ledger_topic = with_prefix(BILLING_LEDGER, topic_prefix).name
        self._bounding: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer = make_consumer(
            bootstrap,
            profile,
            [],
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=20 if profile.tansu_workarounds else 500,
        )
        self._task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()
        self.start_offsets: dict[TopicPartition, int] = {}
        self.applied = 0

    async def start(self) -> None:
        await self._consumer.start()
        partitions: list[TopicPartition] = []
        for name in self._specs:
            found = await refresh_partitions(self._consumer, name, timeout=30.0)
            partitions.extend(TopicPartition(name, p) for p in sorted(found))
        seeded = await self._seeded_positions()
        from_zero = [tp for tp in partitions if seeded.get(tp, 0) <= 0]
        for tp in partitions:  # 0: the first offset kept (the consumer resets to earliest)
            self.start_offsets[tp] = max(0, seeded.get(tp, 0))
        starts = self.start_offsets
        if len(from_zero) < len(partitions) and self.seed is not None:
            self.preferences_view.rows = self.balances.rows = self.seed
        read = await read_to_end(self._consumer, partitions, starts=starts)
        self._task = asyncio.create_task(self._run(read), name="thread-log-views")
        self._bounding = asyncio.create_task(self._keep_bounded(), name="thread-log-bound")

    async def _seeded_positions(self) -> dict[TopicPartition, int]:
        if self.seed is None:
            return {}
        try:
            return await self.seed.positions(list(self._specs))
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning("no read-model positions, reading users and ledger from zero: %s", exc)
            return {}

    async def balance(self, user_id: int) -> Decimal | None:
        """:class:`infra.views.UserReads`: the available balance (see :class:`TailBalances`)."""
        return await self.balances.balance(user_id)

    async def preferences(self, user_id: int) -> UserPreferences:
        """:class:`infra.views.UserReads`: the user's preferences."""
        return await self.preferences_view.preferences(user_id)

    def note(self, command: BillingCommand) -> None:
        """A reservation or release this worker just published (see :class:`TailBalances`)."""
        self.balances.note(command)

    async def stop(self) -> None:
        for task in (self._task, self._bounding):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._consumer.stop()

    async def bound(self) -> int:
        """Evict the covered entries of a view over its bound (see the module docstring),
        after reading where the projector stands now; how many were evicted."""
        views = (self.preferences_view, self.balances)
        over = any(len(v.entries) > v.entries.max_users for v in views)
        if not over or self.seed is None:
            return 0
        try:
            positions = await self.seed.positions(list(self._specs))
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning("read-model positions unavailable, views not bounded now: %s", exc)
            return 0
        if not any(p > 0 for p in positions.values()):
            return 0
        # the read model now covers part of the log: a miss is read from it
        self.preferences_view.rows = self.balances.rows = self.seed

        def covered_in(topic: str) -> Covered:
            def covered(partition: int, offset: int) -> bool:
                return offset < positions.get(TopicPartition(topic, partition), 0)

            return covered

        evicted = self.preferences_view.evict(covered_in(self._users_topic))
        return evicted + self.balances.evict(covered_in(self._ledger_topic))

    async def _keep_bounded(self) -> None:
        while True:
            await asyncio.sleep(self.bound_every)
            await self.bound()

    async def _run(self, read: PartitionRead) -> None:
        """Catch up to the end offsets read at the start, then follow both topics."""
        async for tp, records in read.batches(max_records=1000, timeout_ms=200):
            self._apply_batch(tp, records)
        self.caught_up.set()
        async for tp, records in follow(
            self._consumer, read.positions, max_records=1000, timeout_ms=200
        ):
            self._apply_batch(tp, records)

    def _apply_batch(self, tp: TopicPartition, records: list[Record]) -> None:
        spec = self._specs[tp.topic]
        for rec in records:
            self._apply(spec, rec.value, rec.headers, rec.offset, tp.partition)

    def _apply(
        self,
        spec: TopicSpec[Any],
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        offset: int = UNKNOWN,
        partition: int = UNKNOWN,
    ) -> None:
        self.applied += 1
        try:
            record = codec_for(spec).decode(value, headers)
        except DecodeError as exc:
            log.debug("view skipped a record: %s", exc.reason)
            return
        if spec is USERS_EVENTS:
            self.preferences_view.apply(record, offset, partition)
        else:
            self.balances.apply(record, offset, partition)

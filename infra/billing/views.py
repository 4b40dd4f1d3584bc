"""Billing's small read views: the margin and the ledger folded from their topics, usernames
from the read model.

* :class:`MarginView` -- the current owner margin k3: the last ``admin.margin_changed`` in
  ``bot.admin.events`` (one partition, a handful of records);
* :class:`UsernameDirectory` -- @username -> user id from the ``users`` read model (for
  ``/topup @name``);
* :class:`LedgerFoldView` -- a :class:`infra.views.BalanceView` folded straight from the
  whole ``bot.billing.ledger``: exact and read-your-writes, for tests and tools only (no
  service uses it: services read the read models through :class:`infra.views.UserReads`).

Each topic view's read first catches up with the end offsets (one ListOffsets round trip,
plus a fetch when something is new), so a value written and acknowledged before the read
is seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, Generic, Self, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from actors.billing import policy
from actors.billing.ledger_fold import evolve
from actors.billing.ledger_state import BillingState
from actors.billing.subsidy import NO_SUBSIDY, SubsidySchedule, accepts, with_change
from events.admin import CacheSubsidyChanged, MarginChanged
from events.billing import (
    AdminToppedUp,
    OperationRejected,
    PaymentCredited,
    RefundDebited,
    RefundedPaymentDebited,
    RefundReversed,
    UsageDebited,
)
from events.catalog import (
    ADMIN_EVENTS,
    BILLING_LEDGER,
    LedgerRecord,
    TopicSpec,
    with_prefix,
)
from events.codec import Codec, DecodeError, codec_for
from events.envelope import event_type
from infra.endpoints import resolve_endpoints
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.kafka.read_to_end import read_to_end
from infra.postgres import create_pool
from infra.projector.views import ReadModelViews
from infra.settings import Settings
from infra.views import LedgerLine

log = logging.getLogger(__name__)
E = TypeVar("E")
RECENT_LINES: Final = 20


class TopicTail(Generic[E]):
    """Folds every record of a topic into ``apply``, catching up to the end on demand."""

    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        spec: TopicSpec[E],
        apply: Callable[[E], None],
        *,
        topic_prefix: str = "",
    ) -> None:
        self._bootstrap = bootstrap
        self._profile = profile
        self._topic = with_prefix(spec, topic_prefix).name
        self._codec: Codec[E] = codec_for(spec)
        self._apply = apply
        self._reader: AIOKafkaConsumer | None = None
        self._positions: dict[TopicPartition, int] | None = None
        self._lock = asyncio.Lock()

    async def catch_up(self) -> None:
        async with self._lock:
            if self._reader is None:
                reader = make_consumer(self._bootstrap, self._profile, [], group_id=None)
                try:
                    await reader.start()
                    await reader.topics()
                except BaseException:  # a timeout or a broker away: no client left running
                    with contextlib.suppress(Exception):
                        await reader.stop()
                    raise
                self._reader = reader
            reader = self._reader
            if self._positions is None:  # first read: from each partition's start
                parts = sorted(reader.partitions_for_topic(self._topic) or ())
                tps = [TopicPartition(self._topic, p) for p in parts]
                read = await read_to_end(reader, tps)
            else:
                read = await read_to_end(reader, self._positions, starts=self._positions)
            async for _tp, records in read.batches(max_records=10_000):
                for record in records:
                    try:
                        value = self._codec.decode(record.value)
                    except DecodeError:
                        continue  # the owner of the topic dead-letters it
                    self._apply(value)
            self._positions = read.positions

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None


async def _connect(
    settings: Settings, broker: tuple[str, BrokerProfile] | None
) -> tuple[str, BrokerProfile]:
    """The root's broker when given, else resolved and probed here."""
    if broker is not None:
        return broker
    bootstrap = settings.kafka_bootstrap_servers
    if bootstrap is None:
        bootstrap = (await resolve_endpoints(settings, start_embedded=False)).kafka_bootstrap
    return bootstrap, await probe_broker(bootstrap, settings.broker_compat)


# ------------------------------------------------------------------ admin topic settings


class _AdminSetting:
    """A setting privileged users change through ``bot.admin.events``, folded by
    ``_apply`` (each subclass: its record, its checks) and caught up on every read."""

    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        *,
        topic_prefix: str = "",
        privileged: frozenset[int] = frozenset(),
    ) -> None:
        self._privileged = privileged
        self.ignored = 0
        self._tail = TopicTail(
            bootstrap, profile, ADMIN_EVENTS, self._apply, topic_prefix=topic_prefix
        )

    @classmethod
    async def connect(
        cls,
        settings: Settings,
        *,
        topic_prefix: str = "",
        broker: tuple[str, BrokerProfile] | None = None,
    ) -> Self:
        bootstrap, profile = await _connect(settings, broker)
        return cls(
            bootstrap, profile, topic_prefix=topic_prefix, privileged=settings.privileged_user_ids
        )

    def _apply(self, record: Any) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        await self._tail.close()


class MarginView(_AdminSetting):
    """The current owner margin k3 (default :data:`policy.DEFAULT_OWNER_MARGIN`).

    Only a ``admin.margin_changed`` by one of ``privileged`` (``PRIVILEGED_USER_IDS``) with
    an acceptable margin counts: a record written to the topic by anyone else (the Kafka UI,
    a stray producer) or with k1 + k2 + k3 >= 1 is ignored, with a warning, so it never
    reaches an invoice.
    """

    _margin: Decimal = policy.DEFAULT_OWNER_MARGIN

    def _apply(self, record: Any) -> None:
        if not isinstance(record, MarginChanged):
            return
        problem = policy.margin_problem(record.owner_margin)
        if record.admin_user_id not in self._privileged:
            problem = f"user {record.admin_user_id} is not a privileged user"
        if problem:
            self.ignored += 1
            log.warning("margin change %s ignored: %s", record.id, problem)
            return
        self._margin = record.owner_margin

    async def current(self) -> Decimal:
        await self._tail.catch_up()
        return self._margin


class CacheSubsidyView(_AdminSetting):
    """The cache-write subsidy's schedule (:mod:`actors.billing.subsidy`): every
    ``admin.cache_subsidy_changed`` a privileged user made, from ``bot.admin.events``.

    A change by anyone else is ignored with a warning. A read that cannot reach the broker
    raises: the billing worker holds its batch until it can read it (a charge priced by a
    schedule that missed a switch would be final), see ``BillingWorker._read_subsidy``."""

    schedule: SubsidySchedule = NO_SUBSIDY

    def _apply(self, record: Any) -> None:
        if not isinstance(record, CacheSubsidyChanged):
            return
        if not accepts(record, self._privileged):
            self.ignored += 1
            log.warning(
                "cache subsidy change %s ignored: user %s is not a privileged user",
                record.id,
                record.admin_user_id,
            )
            return
        self.schedule = with_change(self.schedule, record, self._privileged)

    async def current(self) -> SubsidySchedule:
        """The schedule with every change acknowledged before this call."""
        await self._tail.catch_up()
        return self.schedule


# --------------------------------------------------------------------------- usernames


class UsernameDirectory:
    """@username (case-insensitive) -> Telegram user id, from the ``users`` read model (the
    read port, :meth:`infra.projector.views.ReadModelViews.user_id_for`): one keyed query,
    no fold of ``bot.users.events``. A user registered a moment ago is known once the
    projector has applied the registration (its lag: typically tens of milliseconds)."""

    def __init__(self, views: ReadModelViews, pool: asyncpg.Pool | None = None) -> None:
        self._views = views
        self._pool = pool

    @classmethod
    async def connect(cls, settings: Settings, *, topic_prefix: str = "") -> UsernameDirectory:
        """A directory over the configured database (``topic_prefix`` is accepted for the
        callers' symmetry with the topic views; the read model is not prefixed)."""
        endpoints = await resolve_endpoints(settings, start_embedded=False)
        pool = await create_pool(endpoints.database_url, min_size=1, max_size=2)
        return cls(ReadModelViews(pool, None), pool)

    async def user_id(self, username: str) -> int | None:
        return await self._views.user_id_for(username.lstrip("@"))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


# --------------------------------------------------------------------------- balances


def _subject(entry: LedgerRecord) -> tuple[str, str, str]:
    """``(subject, source, reference)`` of :class:`infra.views.LedgerLine` for ``entry``."""
    if isinstance(entry, UsageDebited):
        return entry.tool_name or entry.model or "", entry.source, ""
    if isinstance(entry, PaymentCredited | RefundDebited | RefundedPaymentDebited):
        return str(entry.stars), "", entry.telegram_payment_charge_id
    if isinstance(entry, RefundReversed):
        return "", "", entry.telegram_payment_charge_id
    if isinstance(entry, AdminToppedUp | OperationRejected):
        return entry.reason, "", ""
    return "", "", ""


def ledger_line(entry: LedgerRecord) -> LedgerLine:
    subject, source, reference = _subject(entry)
    return LedgerLine(
        occurred_at=entry.occurred_at,
        kind=event_type(type(entry)).removeprefix("ledger."),
        amount=entry.amount,
        balance_after=entry.balance_after,
        operation_id=entry.operation_id,
        subject=subject,
        source=source,
        reference=reference,
    )


class LedgerFoldView:
    """A BalanceView folded directly from the ledger topic (exact, read-your-writes)."""

    def __init__(self, bootstrap: str, profile: BrokerProfile, *, topic_prefix: str = "") -> None:
        self._states: dict[int, BillingState] = {}
        self._recent: dict[int, deque[LedgerLine]] = {}
        self._tail = TopicTail(
            bootstrap, profile, BILLING_LEDGER, self._apply, topic_prefix=topic_prefix
        )

    def _apply(self, entry: LedgerRecord) -> None:
        state = self._states.get(entry.user_id)
        if state is None:
            state = self._states[entry.user_id] = BillingState()
        before = state.entries
        evolve(state, entry)
        if state.entries != before and not isinstance(entry, OperationRejected):
            self._recent.setdefault(entry.user_id, deque(maxlen=RECENT_LINES)).append(
                ledger_line(entry)
            )

    async def balance(self, user_id: int) -> Decimal | None:
        await self._tail.catch_up()
        state = self._states.get(user_id)
        return None if state is None else state.balance

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        await self._tail.catch_up()
        lines = self._recent.get(user_id, deque())
        return list(reversed(lines))[:limit]

    async def close(self) -> None:
        await self._tail.close()

"""Small read views that fold a topic incrementally: catch up to the end on each read.

* :class:`MarginView` -- the current owner margin k3: the last ``admin.margin_changed`` in
  ``bot.admin.events`` (one partition, a handful of records);
* :class:`UsernameDirectory` -- @username -> user id from ``bot.users.events`` (for
  ``/topup @name``);
* :class:`LedgerBalanceView` -- a :class:`infra.views.BalanceView` folded straight from
  ``bot.billing.ledger``: exact and read-your-writes, meant for tests, tools and small
  deployments (the projections' Redis/PostgreSQL view is the production one).

Each read first catches up with the end offsets (one ListOffsets round trip, plus a fetch
when something is new), so a value written and acknowledged before the read is seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from actors.billing import policy
from actors.billing.ledger import BillingState, evolve
from events.admin import MarginChanged
from events.billing import (
    AdminToppedUp,
    OperationRejected,
    PaymentCredited,
    RefundDebited,
    RefundReversed,
    StarterCreditGranted,
    UsageDebited,
)
from events.catalog import (
    ADMIN_EVENTS,
    BILLING_LEDGER,
    USERS_EVENTS,
    LedgerRecord,
    TopicSpec,
    with_prefix,
)
from events.codec import Codec, DecodeError, codec_for
from events.envelope import event_type
from events.users import ProfileUpdated, UserRegistered
from infra.endpoints import resolve_endpoints
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile, probe_broker
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
        self._tps: list[TopicPartition] = []
        self._lock = asyncio.Lock()

    async def catch_up(self) -> None:
        async with self._lock:
            if self._reader is None:
                reader = make_consumer(self._bootstrap, self._profile, [], group_id=None)
                await reader.start()
                await reader.topics()
                parts = sorted(reader.partitions_for_topic(self._topic) or ())
                self._tps = [TopicPartition(self._topic, p) for p in parts]
                if self._tps:
                    reader.assign(self._tps)
                    await reader.seek_to_beginning(*self._tps)
                self._reader = reader
            reader = self._reader
            if not self._tps:
                return
            ends = await reader.end_offsets(self._tps)
            behind = {tp for tp in self._tps if await reader.position(tp) < ends[tp]}
            while behind:
                batches = await reader.getmany(*behind, timeout_ms=1000, max_records=10_000)
                for records in batches.values():
                    for record in records:
                        try:
                            value = self._codec.decode(record.value)
                        except DecodeError:
                            continue  # the owner of the topic dead-letters it
                        self._apply(value)
                behind = {tp for tp in behind if await reader.position(tp) < ends[tp]}

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


# --------------------------------------------------------------------------- margin


class MarginView:
    """The current owner margin k3 (default :data:`policy.DEFAULT_OWNER_MARGIN`).

    Only a ``admin.margin_changed`` by one of ``privileged`` (``PRIVILEGED_USER_IDS``) with
    an acceptable margin counts: a record written to the topic by anyone else (the Kafka UI,
    a stray producer) or with k1 + k2 + k3 >= 1 is ignored, with a warning, so it never
    reaches an invoice.
    """

    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        *,
        topic_prefix: str = "",
        privileged: frozenset[int] = frozenset(),
    ) -> None:
        self._margin = policy.DEFAULT_OWNER_MARGIN
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
    ) -> MarginView:
        bootstrap, profile = await _connect(settings, broker)
        return cls(
            bootstrap, profile, topic_prefix=topic_prefix, privileged=settings.privileged_user_ids
        )

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

    async def close(self) -> None:
        await self._tail.close()


# --------------------------------------------------------------------------- usernames


class UsernameDirectory:
    """@username (case-insensitive) -> Telegram user id, from users' profiles."""

    def __init__(self, bootstrap: str, profile: BrokerProfile, *, topic_prefix: str = "") -> None:
        self._ids: dict[str, int] = {}
        self._tail = TopicTail(
            bootstrap, profile, USERS_EVENTS, self._apply, topic_prefix=topic_prefix
        )

    @classmethod
    async def connect(
        cls,
        settings: Settings,
        *,
        topic_prefix: str = "",
        broker: tuple[str, BrokerProfile] | None = None,
    ) -> UsernameDirectory:
        bootstrap, profile = await _connect(settings, broker)
        return cls(bootstrap, profile, topic_prefix=topic_prefix)

    def _apply(self, record: Any) -> None:
        if isinstance(record, UserRegistered | ProfileUpdated) and record.profile.username:
            self._ids[record.profile.username.lower()] = record.profile.user_id

    async def user_id(self, username: str) -> int | None:
        await self._tail.catch_up()
        return self._ids.get(username.lstrip("@").lower())

    async def close(self) -> None:
        await self._tail.close()


# --------------------------------------------------------------------------- balances


def describe(entry: LedgerRecord) -> str:
    """One line for people about a ledger entry (``/balance`` history)."""
    if isinstance(entry, UsageDebited):
        what = entry.tool_name or entry.model or "usage"
        return f"{entry.source.replace('_', ' ')}: {what}"
    if isinstance(entry, PaymentCredited):
        return f"payment of {entry.stars} Stars (transaction {entry.telegram_payment_charge_id})"
    if isinstance(entry, RefundDebited):
        return f"refund of {entry.stars} Stars (transaction {entry.telegram_payment_charge_id})"
    if isinstance(entry, RefundReversed):
        return f"refund failed, credited back ({entry.telegram_payment_charge_id})"
    if isinstance(entry, AdminToppedUp):
        return "adjustment by an administrator" + (f": {entry.reason}" if entry.reason else "")
    if isinstance(entry, StarterCreditGranted):
        return "starter credit"
    if isinstance(entry, OperationRejected):
        return f"refused ({entry.reason})"
    return type(entry).__name__


def ledger_line(entry: LedgerRecord) -> LedgerLine:
    return LedgerLine(
        occurred_at=entry.occurred_at,
        kind=event_type(type(entry)),
        amount=entry.amount,
        balance_after=entry.balance_after,
        description=describe(entry),
        operation_id=entry.operation_id,
    )


class LedgerBalanceView:
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

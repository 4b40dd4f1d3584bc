"""In-memory views a thread worker folds from other actors' logs.

* :class:`UserSettingsView`: each user's default model and personality, from
  ``bot.users.events`` (the users actor is their single writer);
* :class:`LedgerBalanceView`: each user's balance, the ``balance_after`` of their newest
  ``bot.billing.ledger`` entry; it implements the :class:`~infra.views.BalanceReader` port
  (the soft check needs nothing more, so no history is kept per user).

Every worker reads all partitions of these topics from the beginning without a consumer
group: the topics keep their history forever, so this is what a Faust GlobalTable would do,
minus a second changelog. Views lag the log by milliseconds; the balance check is a soft
check by design (billing's ledger is exact).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from events.billing import LedgerEntry, OperationRejected
from events.catalog import BILLING_LEDGER, USERS_EVENTS, TopicSpec, with_prefix
from events.codec import DecodeError, codec_for
from events.usage import ModelId
from events.users import ModelChanged, PersonalityChanged, UserRegistered
from infra.kafka.clients import make_consumer, refresh_partitions
from infra.kafka.compat import BrokerProfile

log = logging.getLogger(__name__)


@dataclass(slots=True)
class UserSettings:
    model: ModelId | None = None
    personality: str | None = None


class UserSettingsView:
    def __init__(self) -> None:
        self.users: dict[int, UserSettings] = {}

    def get(self, user_id: int) -> UserSettings:
        return self.users.get(user_id) or UserSettings()

    def apply(self, record: Any) -> None:
        if isinstance(record, UserRegistered):
            self.users.setdefault(
                record.profile.user_id, UserSettings()
            ).model = record.default_model
        elif isinstance(record, ModelChanged):
            self.users.setdefault(record.user_id, UserSettings()).model = record.model
        elif isinstance(record, PersonalityChanged):
            self.users.setdefault(record.user_id, UserSettings()).personality = record.personality


class LedgerBalanceView:
    """BalanceReader from the ledger: the newest ``balance_after`` per user."""

    def __init__(self) -> None:
        self.balances: dict[int, Decimal] = {}

    def apply(self, record: Any) -> None:
        if isinstance(record, LedgerEntry) and not isinstance(record, OperationRejected):
            self.balances[record.user_id] = record.balance_after

    async def balance(self, user_id: int) -> Decimal | None:
        return self.balances.get(user_id)


class LogViews:
    """One group-less consumer feeding the views above, from offset zero."""

    def __init__(
        self,
        bootstrap: str,
        profile: BrokerProfile,
        *,
        topic_prefix: str = "",
        settings: UserSettingsView | None = None,
        balances: LedgerBalanceView | None = None,
    ) -> None:
        self.settings = settings or UserSettingsView()
        self.balances = balances or LedgerBalanceView()
        sources: tuple[TopicSpec[Any], ...] = (USERS_EVENTS, BILLING_LEDGER)
        self._specs: dict[str, TopicSpec[Any]] = {
            with_prefix(spec, topic_prefix).name: spec for spec in sources
        }
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

    async def start(self) -> None:
        await self._consumer.start()
        partitions: list[TopicPartition] = []
        for name in self._specs:
            found = await refresh_partitions(self._consumer, name, timeout=30.0)
            partitions.extend(TopicPartition(name, p) for p in sorted(found))
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        self._task = asyncio.create_task(self._run(ends), name="thread-log-views")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _run(self, ends: dict[TopicPartition, int]) -> None:
        pending = {tp: end for tp, end in ends.items() if end > 0}
        if not pending:
            self.caught_up.set()
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=1000)
            for tp, records in batches.items():
                spec = self._specs[tp.topic]
                for rec in records:
                    self._apply(spec, rec.value, rec.headers)
                    if tp in pending and rec.offset + 1 >= pending[tp]:
                        del pending[tp]
            if not pending and not self.caught_up.is_set():
                self.caught_up.set()

    def _apply(
        self, spec: TopicSpec[Any], value: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        try:
            record = codec_for(spec).decode(value, headers)
        except DecodeError as exc:
            log.debug("view skipped a record: %s", exc.reason)
            return
        if spec is USERS_EVENTS:
            self.settings.apply(record)
        else:
            self.balances.apply(record)

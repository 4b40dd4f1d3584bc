"""A fold that fails on assignment is retried, then stops the worker: never a silent stall."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from billing_helpers import wait_for

from actors.billing import commands
from events.catalog import BILLING_COMMANDS
from infra.billing.worker import BillingWorker, FoldFailed
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

UID = 7770001


class FlakyFoldWorker(BillingWorker):
    """A worker whose first ``failures`` ledger folds raise (a broker hiccup)."""

    def __init__(self, *args: object, failures: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.failures = failures
        self.fold_calls = 0

    async def _fold(self, partitions: list[int]) -> None:
        self.fold_calls += 1
        if self.fold_calls <= self.failures:
            raise ConnectionError("ledger unreachable")
        await super()._fold(partitions)


async def test_a_fold_failing_once_on_assignment_is_retried_and_the_worker_runs(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    publisher: EventPublisher,
) -> None:
    """The fold is retried with backoff; then the partitions have state and commands apply."""
    worker = FlakyFoldWorker(
        stack.kafka_bootstrap,
        broker_profile,
        topic_prefix=billing_topics,
        failures=1,
        fold_backoff=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.ready.wait(), 60)
        await publisher.publish(BILLING_COMMANDS, commands.starter_credit(UID))
        await wait_for(lambda: worker.state_of(UID) is not None)
        state = worker.state_of(UID)
        assert state is not None
        assert state.balance == Decimal("1.00")
        assert worker.fold_calls == 2
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_a_fold_failing_every_time_on_assignment_stops_the_worker_with_the_reason(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
) -> None:
    """After the last attempt run() raises FoldFailed naming the partitions and the cause
    (aiokafka swallows callback errors: it used to fetch and drop commands forever)."""
    worker = FlakyFoldWorker(
        stack.kafka_bootstrap,
        broker_profile,
        topic_prefix=billing_topics,
        failures=100,
        fold_attempts=2,
        fold_backoff=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        with pytest.raises(FoldFailed, match="ledger unreachable"):
            await asyncio.wait_for(task, 60)
        assert worker.fold_calls == 2
        assert not worker.ready.is_set()
    finally:
        stop.set()
        if not task.done():
            task.cancel()

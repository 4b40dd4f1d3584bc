"""Fixtures for billing tests on the real broker: topics, a publisher, in-process workers, the
deployed gateway on the billing topics and the payments process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from aiogram import Bot
from billing_helpers import ADMIN, ADMIN_IDS, GatewayFactory, PaymentsFactory, WorkerFactory

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.gateway import gateway_settings, open_test_gateway
from devkit.harness.topics import running_publisher
from events.catalog import (
    ADMIN_EVENTS,
    BILLING_COMMANDS,
    BILLING_LEDGER,
    BILLING_SNAPSHOTS,
    PAYMENTS_EVENTS,
)
from infra.billing.payments_process import PaymentsProcess
from infra.billing.views import LedgerFoldView
from infra.billing.worker import BillingWorker
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics

BILLING_TOPICS = (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    BILLING_SNAPSHOTS,
    PAYMENTS_EVENTS,
    ADMIN_EVENTS,
    BILLING_COMMANDS.dead_letter(),
    BILLING_LEDGER.dead_letter(),
)


@pytest_asyncio.fixture(loop_scope="session")
async def billing_topics(stack: Endpoints, topic_prefix: str) -> str:
    """The billing topics under this test's prefix (returns the prefix)."""
    report = await ensure_topics(stack.kafka_bootstrap, BILLING_TOPICS, name_prefix=topic_prefix)
    assert report.ok, report.mismatches
    return topic_prefix


@pytest_asyncio.fixture(loop_scope="session")
async def publisher(
    stack: Endpoints, broker_profile: BrokerProfile, billing_topics: str
) -> AsyncIterator[EventPublisher]:
    async with running_publisher(stack.kafka_bootstrap, broker_profile, billing_topics) as out:
        yield out


@pytest_asyncio.fixture(loop_scope="session")
async def billing_worker(
    stack: Endpoints, broker_profile: BrokerProfile, billing_topics: str
) -> WorkerFactory:
    """``async with billing_worker(**options) as worker``: a running, ready group member."""

    @contextlib.asynccontextmanager
    async def start(**options: Any) -> AsyncIterator[BillingWorker]:
        options.setdefault("privileged_user_ids", ADMIN_IDS)
        worker = BillingWorker(
            stack.kafka_bootstrap, broker_profile, topic_prefix=billing_topics, **options
        )
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            ready = asyncio.create_task(worker.ready.wait())
            done, _ = await asyncio.wait({ready, task}, timeout=60, return_when="FIRST_COMPLETED")
            if task in done:
                task.result()
            assert ready in done, "billing worker not ready in 60 s"
            yield worker
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    return start


@pytest_asyncio.fixture(loop_scope="session")
async def billing_gateway(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    billing_topics: str,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> GatewayFactory:
    """``async with billing_gateway() as gateway``: the deployed gateway (every router) on
    the billing topics, ADMIN privileged, balances from the ledger; each one a new process's
    gateway. The emulator's flood limits are off: they are the gateway tests' concern."""
    telegram_emulator.configure_flood(enabled=False)
    settings = gateway_settings(telegram_emulator, privileged_user_ids=frozenset({ADMIN}))

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Gateway]:
        balances = LedgerFoldView(
            stack.kafka_bootstrap, broker_profile, topic_prefix=billing_topics
        )
        try:
            async with open_test_gateway(
                settings, stack, broker_profile, billing_topics, bot=telegram_bot, balances=balances
            ) as gateway:
                yield gateway
        finally:
            await balances.close()

    return start


@pytest_asyncio.fixture(loop_scope="session")
async def payments_process(
    stack: Endpoints, broker_profile: BrokerProfile, billing_topics: str, telegram_bot: Bot
) -> PaymentsFactory:
    """``async with payments_process() as process``: running, its partitions assigned."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[PaymentsProcess]:
        process = PaymentsProcess(
            stack.kafka_bootstrap, broker_profile, telegram_bot, topic_prefix=billing_topics
        )
        stop = asyncio.Event()
        task = asyncio.create_task(process.run(stop))
        await asyncio.wait_for(process.ready.wait(), 60)
        try:
            yield process
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    return start

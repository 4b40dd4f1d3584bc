"""Gateway integration fixtures: the Telegram emulator, a gateway on the real broker, and a
reader of what landed on the topics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import TopicPartition

from actors.gateway.batching import BatchConfig
from events.catalog import TopicSpec, with_prefix
from events.codec import codec_for
from infra.emulators.telegram import TelegramEmulator
from infra.emulators.testing import (
    _telegram_bot_session,
    telegram_bot,
    telegram_emulator,
    telegram_emulator_server,
)
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway, open_gateway
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile
from infra.settings import Secret, Settings
from infra.views import LedgerLine

__all__ = ["_telegram_bot_session", "telegram_bot", "telegram_emulator", "telegram_emulator_server"]

WEBHOOK_SECRET = "s3cret-token_ok"


class NoBalances:
    """BalanceView fake: the gateway's own routers never read balances."""

    async def balance(self, user_id: int) -> Decimal | None:
        return None

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        return []


@pytest.fixture
def gateway_settings(telegram_emulator: TelegramEmulator) -> Settings:
    return Settings(
        telegram_bot_token=Secret(telegram_emulator.token),
        telegram_api_url=telegram_emulator.base_url,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET),
    )


GatewayFactory = Callable[..., contextlib.AbstractAsyncContextManager[Gateway]]


@pytest_asyncio.fixture(loop_scope="session")
async def open_test_gateway(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    gateway_settings: Settings,
    telegram_bot: Any,
) -> GatewayFactory:
    """``async with open_test_gateway(**options) as gateway`` on this test's topics."""

    @contextlib.asynccontextmanager
    async def start(**options: Any) -> AsyncIterator[Gateway]:
        options.setdefault("batch_config", BatchConfig(window=0.2))
        async with open_gateway(
            stack,
            gateway_settings,
            topic_prefix=topic_prefix,
            bot=telegram_bot,
            profile=broker_profile,
            balances=NoBalances(),
            **options,
        ) as gateway:
            yield gateway

    return start


@contextlib.asynccontextmanager
async def polling(gateway: Gateway) -> AsyncIterator[asyncio.Event]:
    """The gateway's poller running in the background (short long-poll timeout)."""
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.poller(timeout=1).run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


class TopicReader:
    """Reads every record of a (prefixed) topic from the start, decoded with its codec."""

    def __init__(self, stack: Endpoints, profile: BrokerProfile, prefix: str) -> None:
        self._stack = stack
        self._profile = profile
        self._prefix = prefix

    async def read(
        self,
        spec: TopicSpec[Any],
        *,
        count: int,
        timeout: float = 20.0,
        settle: float = 0.0,
    ) -> list[Any]:
        """At least ``count`` records (waiting up to ``timeout``), then ``settle`` seconds
        more to catch any extra ones; decoded, in partition-offset order."""
        name = with_prefix(spec, self._prefix).name
        consumer = make_consumer(self._stack.kafka_bootstrap, self._profile, [], group_id=None)
        await consumer.start()
        try:
            partitions = [TopicPartition(name, p) for p in range(spec.partitions)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            codec = codec_for(spec)
            out: list[Any] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            settle_until: float | None = None
            while True:
                now = loop.time()
                if len(out) >= count and settle_until is None:
                    settle_until = now + settle
                if settle_until is not None and now >= settle_until:
                    break
                if now >= deadline:
                    break
                batches = await consumer.getmany(timeout_ms=100)
                for records in batches.values():
                    out.extend(codec.decode(r.value, r.headers) for r in records)
            return out
        finally:
            await consumer.stop()


@pytest.fixture
def topics(stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str) -> TopicReader:
    return TopicReader(stack, broker_profile, topic_prefix)

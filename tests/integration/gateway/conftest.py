"""Gateway integration fixtures: the Telegram emulator, a gateway on the real broker, and a
reader of what landed on the topics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from gateway_harness import WEBHOOK_SECRET, GatewayFactory, NoBalances, NoSettings, TopicReader

from actors.gateway.batching import BatchConfig
from devkit.emulators.telegram import TelegramEmulator
from infra.endpoints import Endpoints
from infra.gateway.app import Gateway, open_gateway
from infra.kafka.compat import BrokerProfile
from infra.settings import Secret, Settings


@pytest.fixture
def gateway_settings(telegram_emulator: TelegramEmulator) -> Settings:
    return Settings(
        telegram_bot_token=Secret(telegram_emulator.token),
        telegram_api_url=telegram_emulator.base_url,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET),
    )


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
        options.setdefault("user_settings", NoSettings())
        options.setdefault("balances", NoBalances())
        async with open_gateway(
            stack,
            gateway_settings,
            topic_prefix=topic_prefix,
            bot=telegram_bot,
            profile=broker_profile,
            **options,
        ) as gateway:
            yield gateway

    return start


@pytest.fixture
def topics(stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str) -> TopicReader:
    return TopicReader(stack, broker_profile, topic_prefix)

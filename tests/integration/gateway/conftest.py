"""Gateway integration fixtures: the Telegram emulator, a gateway on the real broker, and a
reader of what landed on the topics."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness import gateway as harness
from devkit.harness.gateway import GatewayFactory, TopicReader
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.settings import Settings


@pytest.fixture
def gateway_settings(telegram_emulator: TelegramEmulator) -> Settings:
    return harness.gateway_settings(telegram_emulator)


@pytest_asyncio.fixture(loop_scope="session")
async def open_test_gateway(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    gateway_settings: Settings,
    telegram_bot: Any,
) -> GatewayFactory:
    """``async with open_test_gateway(**options) as gateway`` on this test's topics."""

    def start(**options: Any) -> Any:
        return harness.open_test_gateway(
            gateway_settings, stack, broker_profile, topic_prefix, bot=telegram_bot, **options
        )

    return start


@pytest.fixture
def topics(stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str) -> TopicReader:
    return TopicReader(stack, broker_profile, topic_prefix)

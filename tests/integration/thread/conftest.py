"""The thread actor in-process against the real broker and Redis and both emulators."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from actors.thread.tools.catalog import default_registry
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.probe_tools import PROBE_TOOLS
from devkit.harness.thread import Harness, running_harness
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile


@pytest_asyncio.fixture(loop_scope="session")
async def harness(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> AsyncIterator[Harness]:
    async with running_harness(
        stack, broker_profile, topic_prefix, telegram_emulator, claude_emulator
    ) as harness:
        yield harness


@pytest_asyncio.fixture(loop_scope="session")
async def tool_harness(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> AsyncIterator[Harness]:
    """The harness with the tool runtime: built-in tools plus the test-only probes."""
    async with running_harness(
        stack,
        broker_profile,
        topic_prefix,
        telegram_emulator,
        claude_emulator,
        tools=default_registry().with_tools(*PROBE_TOOLS),
    ) as harness:
        yield harness

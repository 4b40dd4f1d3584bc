"""The thread actor in-process against the real broker and Redis and both emulators."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from actors.thread.tools.catalog import default_registry
from actors.thread.tools.registry import ToolRegistry
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.testing import make_anthropic, make_bot
from devkit.harness.probe_tools import PROBE_TOOLS
from devkit.harness.thread import Harness
from devkit.stores import MemoryThreadStore
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    THREAD_EVENTS,
    THREAD_INBOX,
    TopicSpec,
)
from infra.endpoints import Endpoints
from infra.files.thread_files import StoreFiles
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_admin import ensure_topics
from infra.redis_store import create_redis
from infra.threads.actor import ActorConfig, ThreadActor
from infra.threads.claude_client import ClaudeClient
from infra.threads.generation_slots import GenerationSlots
from infra.threads.log_views import TailBalances, TailPreferences
from infra.threads.stores import ProducerSink
from infra.threads.telegram_output import TelegramOutput
from infra.threads.tool_ports import ClaudeModelPort
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn import TurnRunner
from infra.threads.turn_state import TurnConfig


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


@contextlib.asynccontextmanager
async def running_harness(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    *,
    tools: ToolRegistry | None = None,
) -> AsyncIterator[Harness]:
    specs: list[TopicSpec[Any]] = [THREAD_INBOX, THREAD_EVENTS, BILLING_COMMANDS, BILLING_LEDGER]
    await ensure_topics(stack.kafka_bootstrap, specs, name_prefix=topic_prefix)
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    bot = make_bot(telegram_emulator)
    client = make_anthropic(claude_emulator)
    redis = create_redis(stack.redis_url)
    store = MemoryThreadStore()
    balances = TailBalances()
    claude = ClaudeClient(client, first_token_timeout=3.0, idle_timeout=3.0)
    runtime = (
        ToolRuntime(
            tools, claude=ClaudeModelPort(claude), files=StoreFiles(None, bot), balances=balances
        )
        if tools is not None
        else None
    )
    actor = ThreadActor(
        store=store,
        sink=ProducerSink(producer),
        runner=TurnRunner(
            claude,
            TelegramOutput(bot),
            TurnConfig(model_retries=0),
            tools=runtime,
        ),
        slots=GenerationSlots(redis, prefix=f"cg:{topic_prefix}gen:"),
        balances=balances,
        preferences=TailPreferences(),
        config=ActorConfig(topic_prefix=topic_prefix, balance_wait=0),
    )
    harness = Harness(actor, store, balances, telegram_emulator, claude_emulator, topic_prefix)
    try:
        yield harness
    finally:
        await actor.stop()
        await producer.stop()
        await bot.session.close()
        await claude.close()
        await redis.aclose()

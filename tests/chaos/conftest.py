"""The chaos suite's bot: ``botctl run`` on an embedded stack of its own (the faults stop and
kill its broker, PostgreSQL and Redis, which the rest of the session must not feel), talking
to the session's Telegram and Claude emulators under a bot token of its own.

Its settings (``CHAOS_SEED``, ``CHAOS_RUNS``, ``CHAOS_LANES``... which ``botctl chaos`` sets)
are read in ``chaos_settings``, which the tests import too (a module of its own: ``from
conftest import`` finds another folder's conftest when several are named on one command line).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from chaos_bot import BotUnderTest
from chaos_plan import FAULT_WEIGHTS, Profile
from chaos_runner import Chaos
from chaos_settings import (
    API_KEY,
    BOT_TOKEN,
    FULL_CHECK_EVERY,
    LANES,
    OUTAGE_SECONDS,
    RUNS,
    SEED,
    WEIGHTS,
)
from chaos_workload import OWNER

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from infra.endpoints import Endpoints
from infra.kafka.compat import probe_broker
from infra.stack.embedded import EmbeddedStack


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"chaos: seed {SEED} (CHAOS_SEED={SEED} repeats it), {RUNS} runs in {LANES} lanes, "
        f"outages {OUTAGE_SECONDS:g} s, full checks every {FULL_CHECK_EVERY} runs, "
        f"fault weights {WEIGHTS or FAULT_WEIGHTS}"
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def chaos_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[EmbeddedStack, Endpoints]]:
    """An embedded stack of this module only, deleted afterwards."""
    stack = EmbeddedStack(tmp_path_factory.mktemp("chaos-stack"))
    try:
        state = await stack.start()
        yield (
            stack,
            Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, embedded=True),
        )
    finally:
        stack.reset()


@pytest.fixture(scope="module")
def chaos_telegram(telegram_emulator_server: TelegramEmulator) -> Iterator[TelegramEmulator]:
    """The session's Telegram emulator without flood limits (restored afterwards)."""
    before = telegram_emulator_server.world.flood.config
    telegram_emulator_server.configure_flood(enabled=False)
    yield telegram_emulator_server
    telegram_emulator_server.configure_flood(before)


@pytest.fixture(scope="module")
def chaos_bot(
    chaos_stack: tuple[EmbeddedStack, Endpoints],
    chaos_telegram: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotUnderTest]:
    """``botctl run`` (every service its own process) on the chaos stack."""
    stack, _ = chaos_stack
    state = stack.load()
    assert state is not None
    chosen = os.environ.get("CHAOS_LOG_DIR")
    logs = Path(chosen) if chosen else tmp_path_factory.mktemp("chaos-bot")
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        "TELEGRAM_API_URL": chaos_telegram.base_url,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "ANTHROPIC_BASE_URL": claude_emulator_server.base_url,
        "ANTHROPIC_API_KEY": API_KEY,
        "LOG_LEVEL": os.environ.get("CHAOS_LOG_LEVEL", "WARNING"),
        "PRIVILEGED_USER_IDS": str(OWNER),
    }
    bot = BotUnderTest.configure(stack, state, env, logs / "bot.log")
    bot.start()
    yield bot
    bot.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def chaos(
    chaos_stack: tuple[EmbeddedStack, Endpoints],
    chaos_bot: BotUnderTest,
    chaos_telegram: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
) -> AsyncIterator[Chaos]:
    """The bot, its emulators and the run settings, once every service has started."""
    _, endpoints = chaos_stack
    await chaos_bot.wait_services()
    chaos = Chaos(
        chaos_bot,
        endpoints,
        await probe_broker(endpoints.kafka_bootstrap),
        chaos_telegram,
        claude_emulator_server,
        BOT_TOKEN,
        Profile(outage_seconds=OUTAGE_SECONDS, weights=WEIGHTS or FAULT_WEIGHTS),
        lanes=LANES,
        full_check_every=FULL_CHECK_EVERY,
    )
    await chaos.warm_up()
    yield chaos
    await chaos.close()

"""End-to-end: the thread worker as a separate process on the embedded stack, driven through
its inbox topic, answering through the Telegram and Claude emulators (in this process)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from thread_e2e import ROOT, TOOL_ITERATION_CAP, Processes, WorkerProcess, worker_env

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.e2b_sandbox import E2BEmulator
from devkit.emulators.gemini import GeminiEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.processes import ChildProcess, stop_processes
from devkit.harness.service_fork import spawn
from devkit.harness.topics import running_publisher
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    THREAD_EVENTS,
    THREAD_INBOX,
    USERS_EVENTS,
    TopicSpec,
)
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics
from infra.services.supervisor import botctl_argv

TOPICS: tuple[TopicSpec[Any], ...] = (
    THREAD_INBOX,
    THREAD_EVENTS,
    USERS_EVENTS,
    BILLING_COMMANDS,
    BILLING_LEDGER,
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def e2e_prefix(stack: Endpoints) -> str:
    prefix = f"e{uuid.uuid4().hex[:8]}."
    specs = [*TOPICS, *(t.dead_letter() for t in TOPICS)]
    await ensure_topics(stack.kafka_bootstrap, specs, name_prefix=prefix)
    return prefix


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def publisher(
    stack: Endpoints, broker_profile: BrokerProfile, e2e_prefix: str
) -> AsyncIterator[EventPublisher]:
    async with running_publisher(stack.kafka_bootstrap, broker_profile, e2e_prefix) as out:
        yield out


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def thread_worker(
    stack: Endpoints,
    e2e_prefix: str,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[WorkerProcess]:
    """One worker process shared by the module's tests (unique thread keys per test)."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = worker_env(stack, e2e_prefix, telegram_emulator_server, claude_emulator_server)
    worker = WorkerProcess(stack, e2e_prefix, env, log_path)
    worker.start()
    yield worker
    await worker.stop()


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> ChildProcess:
    return spawn(argv, env, ROOT, log)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tool_processes(
    stack: Endpoints,
    e2e_prefix: str,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """Gateway, thread worker (with the probe tools, iteration cap 3, thinking on) and
    billing worker."""
    logs = tmp_path_factory.mktemp("tools")
    probe_log = logs / "effects.log"
    env = worker_env(
        stack,
        e2e_prefix,
        telegram_emulator_server,
        claude_emulator_server,
        PROBE_TOOL_LOG=str(probe_log),
        THREAD_MAX_TOOL_ITERATIONS=str(TOOL_ITERATION_CAP),
        THREAD_THINKING_BUDGET="1024",  # interleaved thinking, sent back between steps
    )
    worker = WorkerProcess(
        stack,
        e2e_prefix,
        env,
        logs / "worker.log",
        argv=(sys.executable, str(ROOT / "tests" / "e2e" / "tool_worker_process.py")),
    )
    worker.start()
    others = [
        _spawn(botctl_argv("billing-worker"), env, logs / "billing.log"),
        _spawn(botctl_argv("gateway"), env, logs / "gateway.log"),
    ]
    yield Processes(worker, others, probe_log)
    await stop_processes([*others, *([worker.proc] if worker.proc else [])])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def provider_processes(
    stack: Endpoints,
    e2e_prefix: str,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    e2b_emulator_server: E2BEmulator,
    gemini_emulator_server: GeminiEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """Gateway, the thread worker as deployed (built-in tools, providers from its settings:
    the E2B and Gemini emulators) and the billing worker."""
    logs = tmp_path_factory.mktemp("providers")
    env = worker_env(
        stack,
        e2e_prefix,
        telegram_emulator_server,
        claude_emulator_server,
        THREAD_MAX_TOOL_ITERATIONS="5",
        E2B_API_KEY="emulator-key",
        E2B_API_URL=e2b_emulator_server.base_url,
        E2B_SANDBOX_URL=e2b_emulator_server.base_url,
        GOOGLE_API_KEY="emulator-key",
        GOOGLE_GEMINI_BASE_URL=gemini_emulator_server.base_url,
        LATEX_TIMEOUT="30",
        THREAD_FIRST_TOKEN_TIMEOUT="30",
        THREAD_IDLE_TIMEOUT="30",
    )
    worker = WorkerProcess(stack, e2e_prefix, env, logs / "worker.log")
    worker.start()
    others = [
        _spawn(botctl_argv("billing-worker"), env, logs / "billing.log"),
        _spawn(botctl_argv("gateway"), env, logs / "gateway.log"),
    ]
    yield Processes(worker, others, logs / "none.log")
    await stop_processes([*others, *([worker.proc] if worker.proc else [])])

"""Helpers of the thread worker end-to-end tests: publish commands, read the log."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.processes import ChildProcess, stop_process
from devkit.harness.service_fork import spawn
from devkit.harness.thread import message_command, starter_credit, stop_command
from devkit.harness.topics import eventually, read_topic
from events.billing import UsageChargeRequested
from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, THREAD_EVENTS, THREAD_INBOX
from events.thread import StopRequested, UserMessageReceived
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.services.supervisor import botctl_argv

ROOT = Path(__file__).resolve().parents[2]
TOOL_ITERATION_CAP = 3
"""The tool loop's iteration cap of the tool tests' worker."""

__all__ = ["eventually", "message_command", "read_topic", "stop_command"]


async def fund(publisher: EventPublisher, user_id: int, balance: str = "1.00") -> None:
    await publisher.publish(BILLING_LEDGER, starter_credit(user_id, balance))


async def send(
    publisher: EventPublisher, chat_id: int, text: str, *, message_id: int, **kwargs: Any
) -> UserMessageReceived:
    command = message_command(chat_id, text, message_id=message_id, **kwargs)
    await publisher.publish(THREAD_INBOX, command)
    return command


async def stop(
    publisher: EventPublisher, chat_id: int, thread_id: int | None = None
) -> StopRequested:
    command = stop_command(chat_id, thread_id=thread_id)
    await publisher.publish(THREAD_INBOX, command)
    return command


async def events_of(bootstrap: str, profile: BrokerProfile, prefix: str, key: str) -> list[Any]:
    return [e for e in await read_topic(bootstrap, profile, THREAD_EVENTS, prefix) if e.key == key]


async def charges_of(
    bootstrap: str, profile: BrokerProfile, prefix: str, thread_key: str
) -> list[Any]:
    found = await read_topic(bootstrap, profile, BILLING_COMMANDS, prefix)
    return [c for c in found if isinstance(c, UsageChargeRequested) and c.thread_key == thread_key]


@dataclass
class WorkerProcess:
    """A thread worker child process and how to restart or kill it."""

    stack: Endpoints
    prefix: str
    env: dict[str, str]
    log_path: Path
    proc: ChildProcess | None = None
    starts: list[int] = field(default_factory=list)
    argv: tuple[str, ...] = tuple(botctl_argv("thread-worker"))

    def start(self) -> None:
        self.proc = spawn(self.argv, self.env, ROOT, self.log_path)
        self.starts.append(self.proc.pid)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    async def stop(self) -> None:
        """SIGTERM, waiting without blocking the emulators' event loop."""
        await stop_process(self.proc)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def wait_answered(
    worker: WorkerProcess, telegram: TelegramEmulator, chat_id: int, timeout: float
) -> None:
    """Until the bot wrote in the chat; fails at once, with its log, if the worker exited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not telegram.bot_messages(chat_id):
        if worker.proc is not None and worker.proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{worker.log_tail()}")
        if loop.time() > deadline:
            raise TimeoutError(f"worker not ready:\n{worker.log_tail()}")
        await asyncio.sleep(0.1)


async def wait_ready(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    chat_id: int,
    timeout: float = 60.0,
) -> None:
    """Send a probe message until the worker answers it (group joined, views caught up)."""
    telegram.add_private_chat(chat_id)
    await fund(publisher, chat_id)
    await send(publisher, chat_id, "ready?", message_id=1)
    await wait_answered(worker, telegram, chat_id, timeout)


@dataclass
class Processes:
    """The processes of a tool-loop test: thread worker, billing worker and gateway."""

    worker: WorkerProcess
    others: list[ChildProcess]
    probe_log: Path


def worker_env(
    stack: Endpoints,
    prefix: str,
    telegram: TelegramEmulator,
    claude: ClaudeEmulator,
    **extra: str,
) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "ANTHROPIC_BASE_URL": claude.base_url,
        "ANTHROPIC_API_KEY": "emulator-key",
        "TOPIC_PREFIX": prefix,
        "THREAD_FIRST_TOKEN_TIMEOUT": "4",
        "THREAD_IDLE_TIMEOUT": "4",
        "THREAD_MODEL_RETRIES": "0",
        "LOG_LEVEL": os.environ.get("E2E_LOG_LEVEL", "WARNING"),
    }
    env.update(extra)
    return env

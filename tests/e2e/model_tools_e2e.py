"""Helpers of the tool end-to-end tests: the gateway, users and billing workers as processes
beside a thread worker (:func:`running_bot`), and what a user sees (the steps of a test are
a :class:`devkit.harness.e2e.Scenario`: ``bot.scenario(telegram, profile)``)."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pypdf import PdfWriter
from thread_e2e import ROOT, WorkerProcess, eventually, fund, wait_ready

from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.telegram.state import ChatMessage
from devkit.harness.e2e import Scenario
from devkit.harness.processes import ChildProcess, stop_processes
from devkit.harness.service_fork import spawn
from events.billing import UsageDebited
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.services.supervisor import botctl_argv


@dataclass
class Processes:
    """Child processes of one test module (gateway, users worker, billing worker)."""

    env: dict[str, str]
    log_dir: Path
    procs: list[ChildProcess] = field(default_factory=list)

    def start(self, name: str, *args: str, **extra_env: str) -> None:
        log = self.log_dir / f"{name}.log"
        self.procs.append(spawn(args, {**self.env, **extra_env}, ROOT, log))

    async def stop(self) -> None:
        await stop_processes(self.procs)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )

    def scenario(self, telegram: TelegramEmulator, profile: BrokerProfile) -> Scenario:
        """The steps of a test against these processes (their logs in its failures)."""
        bootstrap, prefix = self.env["KAFKA_BOOTSTRAP_SERVERS"], self.env["TOPIC_PREFIX"]
        return Scenario(telegram, bootstrap, profile, prefix, self.logs)


def start_processes(env: dict[str, str], prefix: str, log_dir: Path) -> Processes:
    procs = Processes(env, log_dir)
    for service in ("gateway", "users-worker", "billing-worker"):
        procs.start(service, *botctl_argv(service), TOPIC_PREFIX=prefix)
    return procs


@asynccontextmanager
async def running_bot(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    log_dir: Path,
    *,
    probe_chat: int,
    funds: Mapping[int, str],
) -> AsyncIterator[Processes]:
    """Every test user funded *before* the billing worker folds the ledger, then the
    gateway, users and billing workers started while the thread worker (already started)
    gets ready; yields once the worker answered a probe in ``probe_chat`` and the gateway
    polls (their start-ups overlap: both are slow under load)."""
    for user_id, amount in funds.items():
        telegram.add_private_chat(user_id)
        await fund(publisher, user_id, amount)
    polls = len(telegram.calls("getUpdates"))
    procs = start_processes(worker.env, worker.prefix, log_dir)
    try:
        await wait_ready(worker, publisher, telegram, probe_chat, timeout=300)
        await eventually(lambda: len(telegram.calls("getUpdates")) > polls, 300, interval=0.2)
        yield procs
    finally:
        await procs.stop()


def link_urls(message: ChatMessage) -> list[str]:
    entities = message.json.get("entities") or []
    return [str(e["url"]) for e in entities if e.get("type") == "text_link"]


def draft_texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    return [
        str(call.params.get("text", ""))
        for call in telegram.calls("sendMessageDraft")
        if int(call.params.get("chat_id", 0)) == chat_id
    ]


def line_total(entries: list[UsageDebited], item_prefix: str) -> Decimal:
    return sum(
        (line.amount for e in entries for line in e.lines if line.item.startswith(item_prefix)),
        Decimal(0),
    )


def red_png(size: int = 200) -> bytes:
    """A solid red square PNG (bigger than the 90 px thumbnail Telegram adds)."""
    row = b"\x00" + b"\xff\x00\x00" * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def three_page_pdf() -> bytes:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def settle(seconds: float = 0.5) -> None:
    """Let a user-settings change reach the thread worker's view (it lags the log slightly)."""
    await asyncio.sleep(seconds)

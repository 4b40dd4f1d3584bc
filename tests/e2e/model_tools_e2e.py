"""Helpers of the tool end-to-end tests: the gateway, users and billing workers as processes,
and what a user sees and is charged."""

from __future__ import annotations

import asyncio
import io
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfWriter
from thread_e2e import ROOT, eventually

from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.telegram.state import ChatMessage
from devkit.harness.thread import read_topic
from events.billing import UsageDebited
from events.catalog import BILLING_LEDGER, USERS_EVENTS
from infra.kafka.compat import BrokerProfile


@dataclass
class Processes:
    """Child processes of one test module (gateway, users worker, billing worker)."""

    env: dict[str, str]
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, *args: str, **extra_env: str) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.procs.append(
            subprocess.Popen(
                [sys.executable, *args],
                env={**self.env, **extra_env},
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )


def start_processes(env: dict[str, str], prefix: str, bootstrap: str, log_dir: Path) -> Processes:
    procs = Processes(env, log_dir)
    procs.start("gateway", str(ROOT / "tests" / "e2e" / "gateway_process.py"))
    procs.start("users", "-m", "infra.users", "--bootstrap", bootstrap, "--prefix", prefix)
    procs.start("billing", "-m", "infra.billing.worker", BILLING_TOPIC_PREFIX=prefix)
    return procs


async def answer(telegram: TelegramEmulator, chat_id: int, count: int, timeout: float = 90) -> Any:
    """The bot's ``count``-th message in the chat, once it is there."""
    found = await eventually(
        lambda: len(telegram.bot_messages(chat_id)) >= count or None, timeout, interval=0.1
    )
    assert found
    return telegram.bot_messages(chat_id)[count - 1]


def link_urls(message: ChatMessage) -> list[str]:
    entities = message.json.get("entities") or []
    return [str(e["url"]) for e in entities if e.get("type") == "text_link"]


def draft_texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    return [
        str(call.params.get("text", ""))
        for call in telegram.calls("sendMessageDraft")
        if int(call.params.get("chat_id", 0)) == chat_id
    ]


async def debits(
    bootstrap: str, profile: BrokerProfile, prefix: str, user_id: int
) -> list[UsageDebited]:
    ledger = await read_topic(bootstrap, profile, BILLING_LEDGER, prefix)
    return [e for e in ledger if isinstance(e, UsageDebited) and e.user_id == user_id]


async def wait_debits(
    bootstrap: str, profile: BrokerProfile, prefix: str, user_id: int, count: int
) -> list[UsageDebited]:
    async def enough() -> list[UsageDebited] | None:
        found = await debits(bootstrap, profile, prefix, user_id)
        return found if len(found) >= count else None

    result: list[UsageDebited] = await eventually(enough, 60, interval=0.3)
    return result


def line_total(entries: list[UsageDebited], item_prefix: str) -> Decimal:
    return sum(
        (line.amount for e in entries for line in e.lines if line.item.startswith(item_prefix)),
        Decimal(0),
    )


async def users_event(
    bootstrap: str, profile: BrokerProfile, prefix: str, kind: type[Any], user_id: int
) -> Any:
    async def found() -> Any:
        events = await read_topic(bootstrap, profile, USERS_EVENTS, prefix)
        return next((e for e in events if isinstance(e, kind) and e.user_id == user_id), None)

    return await eventually(found, 60, interval=0.3)


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

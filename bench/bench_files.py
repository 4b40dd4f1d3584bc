"""File intake: ingest throughput and the latency a file adds to a turn before its model call.

Run: ``.venv/bin/python bench/bench_files.py [--files 200] [--size-kb 256] [--concurrency 8]``.

Uses ``DATABASE_URL`` when set, else starts the embedded stack (for its PostgreSQL). The
Telegram, Claude and Whisper emulators run in this process. What is timed is
:meth:`FileIntake.prepare` — everything a turn does with its files before the model call:
getFile + download from the Telegram emulator, conversion (images), the store's
PostgreSQL large-object write, the Files API upload (Claude emulator), Whisper (voice) —
with an in-memory commit (the broker's commit is measured by ``bench_pipeline.py``).

* ingest: ``--files`` documents of ``--size-kb`` each, one per turn, ``--concurrency`` turns
  at a time: files/s and MB/s;
* added latency per kind (one file per turn, sequential): p50 / p95 / max of the intake for
  a text message without files (the baseline), a 1 MB PDF, a 2 MP JPEG photo, a HEIC photo
  (converted), a 30 s voice note (transcribed) and a later turn that only references an
  already uploaded file.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from PIL import Image
from pypdf import PdfWriter

from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.state import RunningTurn, ThreadState, initial_state
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.testing import make_anthropic, make_bot, make_openai
from devkit.emulators.whisper import WhisperEmulator, wav_bytes
from events.catalog import BillingCommand, ThreadEvent
from events.messages import Attachment, TelegramUser, UserMessage
from events.thread import UserMessageReceived
from infra.files.claude_files import ClaudeFiles
from infra.files.intake import FileIntake
from infra.files.pg_store import PostgresFileStore
from infra.files.transcription import WhisperTranscriber
from infra.postgres import create_pool
from infra.stack.embedded import EmbeddedStack


class Commit:
    async def __call__(
        self,
        events: Sequence[ThreadEvent],
        charges: Sequence[BillingCommand],
        /,
        *,
        publish_later: bool = False,
    ) -> ThreadState:
        self.state: ThreadState = evolve_all(self.state, list(events))
        return self.state


def started(
    chat: int,
    message_id: int,
    attachments: tuple[Attachment, ...],
    state: ThreadState | None = None,
) -> tuple[ThreadState, RunningTurn]:
    message = UserMessage(
        chat_id=chat,
        chat_type="private",
        message_id=message_id,
        sender=TelegramUser(user_id=chat, first_name="B"),
        sent_at=datetime.now(UTC),
        text="look" if not attachments else "",
        attachments=attachments,
    )
    cmd = UserMessageReceived(
        id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        key=f"{chat}:0",
        correlation_id=str(uuid.uuid4()),
        producer="bench",
        message=message,
    )
    before = state if state is not None else initial_state(cmd.key)
    before = msgspec.structs.replace(before, running=None)  # the previous turn is over
    decision = decide_messages(before, [cmd], Facts(balance=Decimal(100)))
    after = evolve_all(before, decision.events)
    assert after.running is not None
    return after, after.running


def attachment(update: dict[str, Any], kind: str) -> Attachment:
    media = update["message"][kind]
    if kind == "photo":
        media = media[-1]
    return Attachment(
        kind=kind,
        file_id=media["file_id"],
        file_unique_id=media["file_unique_id"],
        mime_type=media.get("mime_type"),
        file_name=media.get("file_name"),
        file_size=media.get("file_size"),
        duration_seconds=media.get("duration"),
    )


def pdf_bytes(size: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes (random bytes as an embedded file)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("data.bin", os.urandom(size))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(fmt: str, width: int, height: int) -> bytes:
    image = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 0.8, 1.2), 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


async def timed(intake: FileIntake, state: ThreadState, running: RunningTurn) -> float:
    """Seconds of one turn's intake (an in-memory commit)."""
    commit = Commit()
    commit.state = state
    began = time.perf_counter()
    await intake.prepare(state, running, commit)
    return time.perf_counter() - began


async def ingest(args: argparse.Namespace, tg: TelegramEmulator, intake: FileIntake) -> None:
    chats = list(range(5_000_000, 5_000_000 + args.files))
    jobs: list[tuple[ThreadState, RunningTurn]] = []
    for chat in chats:
        tg.add_private_chat(chat)
        update = tg.send_document(
            chat,
            pdf_bytes(args.size_kb * 1024),
            file_name=f"data-{chat}.pdf",
            mime_type="application/pdf",
        )
        jobs.append(started(chat, 1, (attachment(update, "document"),)))
    gate = asyncio.Semaphore(args.concurrency)

    async def one(state: ThreadState, running: RunningTurn) -> None:
        async with gate:
            commit = Commit()
            commit.state = state
            await intake.prepare(state, running, commit)

    began = time.perf_counter()
    await asyncio.gather(*(one(s, r) for s, r in jobs))
    seconds = time.perf_counter() - began
    mb = args.files * args.size_kb / 1024
    print(
        f"ingest: {args.files} files x {args.size_kb} KB, concurrency {args.concurrency}: "
        f"{args.files / seconds:.1f} files/s, {mb / seconds:.1f} MB/s ({seconds:.1f} s)"
    )


async def latency(
    args: argparse.Namespace, tg: TelegramEmulator, intake: FileIntake, whisper: WhisperEmulator
) -> None:
    heic = image_bytes("HEIF", 1600, 1200)  # encoded once (x265 takes seconds); same bytes
    kinds: dict[str, Callable[[int], tuple[dict[str, Any], str] | None]] = {
        "no file (baseline)": lambda chat: None,
        "PDF 1 MB": lambda chat: (
            tg.send_document(
                chat,
                pdf_bytes(1024 * 1024),
                file_name="r.pdf",
                mime_type="application/pdf",
            ),
            "document",
        ),
        "photo JPEG 2 MP": lambda chat: (
            tg.send_photo(chat, image_bytes("JPEG", 1600, 1200)),
            "photo",
        ),
        "HEIC 2 MP (converted)": lambda chat: (
            tg.send_document(chat, heic, file_name="IMG.HEIC", mime_type="image/heic"),
            "document",
        ),
        "voice 30 s (Whisper)": lambda chat: (
            tg.send_voice(chat, wav_bytes(30.0), duration=30),
            "voice",
        ),
    }
    chat = 6_000_000
    for label, send in kinds.items():
        samples: list[float] = []
        for _ in range(args.rounds):
            chat += 1
            tg.add_private_chat(chat)
            sent = send(chat)
            atts = () if sent is None else (attachment(*sent),)
            if label.startswith("voice"):
                whisper.transcribe_as("hello there")
            state, running = started(chat, 1, atts)
            samples.append(await timed(intake, state, running))
        report(label, samples)
    samples = []
    for _ in range(args.rounds):  # a later turn of a thread whose PDF is already uploaded
        chat += 1
        tg.add_private_chat(chat)
        update = tg.send_document(
            chat,
            pdf_bytes(256 * 1024),
            file_name="r.pdf",
            mime_type="application/pdf",
        )
        state, running = started(chat, 1, (attachment(update, "document"),))
        commit = Commit()
        commit.state = state
        state, _ = await intake.prepare(state, running, commit)
        state, running = started(chat, 2, (), state)
        samples.append(await timed(intake, state, running))
    report("later turn, PDF already uploaded", samples)


def report(label: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"  {label:34s} p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  "
        f"max {ms[-1]:7.1f} ms  (n={len(ms)})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--size-kb", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    stack = None
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="bench-files-")))
        dsn = (await stack.start()).database_url
    pool = await create_pool(dsn, min_size=2, max_size=8)
    store = PostgresFileStore(pool, schema=f"bench_files_{uuid.uuid4().hex[:6]}")
    await store.migrate()
    async with TelegramEmulator() as tg, ClaudeEmulator(record=False) as claude:
        whisper = WhisperEmulator()
        await whisper.start()
        bot = make_bot(tg)
        anthropic = make_anthropic(claude)
        openai = make_openai(whisper)
        intake = FileIntake(store, bot, ClaudeFiles(anthropic), WhisperTranscriber(openai))
        try:
            await ingest(args, tg, intake)
            print("added latency before the model call (FileIntake.prepare):")
            await latency(args, tg, intake, whisper)
        finally:
            await bot.session.close()
            await anthropic.close()
            await openai.close()
            await whisper.stop()
            await store.sweep(stored_before=datetime.now(UTC))
            await pool.close()
            if stack is not None:
                stack.stop()


if __name__ == "__main__":
    asyncio.run(main())

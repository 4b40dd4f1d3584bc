"""Gemini reads the thread's files: a Gemini turn takes its photo and PDF into the store,
uploads nothing to Claude's Files API, and sends their bytes inline through google-genai
(checked at the Gemini emulator)."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest_asyncio
from aiogram import Bot
from anthropic import AsyncAnthropic
from google import genai
from PIL import Image
from pypdf import PdfWriter

from actors.thread.context import build_request
from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.models import GEMINI_FLASH
from actors.thread.provider import StreamProgress
from actors.thread.state import initial_state
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.gemini import GeminiEmulator
from devkit.emulators.telegram import TelegramEmulator
from events.files import FileUploaded
from events.messages import Attachment, TelegramUser, UserMessage
from events.thread import UserMessageReceived
from infra.endpoints import Endpoints
from infra.files.claude_files import ClaudeFiles
from infra.files.intake import FileIntake
from infra.files.pg_store import PostgresFileStore
from infra.postgres import create_pool
from infra.threads.gemini_client import GeminiClient

CHAT = 990301


@pytest_asyncio.fixture(loop_scope="session")
async def store(stack: Endpoints) -> AsyncIterator[PostgresFileStore]:
    pool = await create_pool(stack.database_url, min_size=1, max_size=4)
    store = PostgresFileStore(pool, schema=f"gi_{uuid.uuid4().hex[:10]}")
    await store.migrate()
    yield store
    await store.sweep(stored_before=datetime.now(UTC) + timedelta(days=1))
    await pool.close()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _attachment(update: dict[str, Any]) -> Attachment:
    media = update["message"]["document"]
    return Attachment(
        kind="document",
        file_id=media["file_id"],
        file_unique_id=media["file_unique_id"],
        mime_type=media.get("mime_type"),
        file_name=media.get("file_name"),
        file_size=media.get("file_size"),
    )


async def test_a_gemini_turn_sends_its_photo_and_pdf_inline(
    store: PostgresFileStore,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    claude_emulator: ClaudeEmulator,
    anthropic_client: AsyncAnthropic,
    gemini_emulator: GeminiEmulator,
    genai_client: genai.Client,
) -> None:
    """Photo and PDF sent on Gemini 3 Flash: stored once, nothing uploaded to Claude, and
    the generateContent request carries exactly the stored bytes as inline data."""
    telegram_emulator.add_private_chat(CHAT)
    png, pdf = _png(), _pdf()
    photo = telegram_emulator.send_document(CHAT, png, file_name="red.png", mime_type="image/png")
    paper = telegram_emulator.send_document(
        CHAT, pdf, file_name="paper.pdf", mime_type="application/pdf"
    )
    message = UserMessage(
        chat_id=CHAT,
        chat_type="private",
        message_id=1,
        sender=TelegramUser(user_id=CHAT, first_name="U"),
        sent_at=datetime.now(UTC),
        text="what is in these?",
        attachments=(_attachment(photo), _attachment(paper)),
    )
    command = UserMessageReceived(
        id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        key=f"{CHAT}:0",
        correlation_id=str(uuid.uuid4()),
        producer="test",
        message=message,
    )
    facts = Facts(balance=Decimal(5), default_model=GEMINI_FLASH)
    decision = decide_messages(initial_state(command.key), [command], facts)
    state = evolve_all(initial_state(command.key), decision.events)
    assert state.running is not None
    running = state.running
    received: list[Any] = []

    async def commit(events: Any, charges: Any, /, *, publish_later: bool = False) -> Any:
        received.extend(events)
        return evolve_all(state, list(events))

    intake = FileIntake(store, telegram_bot, ClaudeFiles(anthropic_client))
    state, view = await intake.prepare(state, running, commit)
    assert not claude_emulator.files.files
    assert not [e for e in received if isinstance(e, FileUploaded)]
    notes = state.history[-1].files
    stored = {
        n.stored_kind: await store.read(n.stored_id or "", thread_key=state.key, user_id=CHAT)
        for n in notes
    }
    assert set(view.inline.values()) == {stored["image"], stored["pdf"]}
    assert stored["pdf"] == pdf

    request = build_request(state, model=GEMINI_FLASH, personality=None, files=view)
    gemini_emulator.reply_text("a red square and a blank page")
    result = await GeminiClient(genai_client).stream(request.kwargs, StreamProgress())
    assert result.text == "a red square and a blank page"
    sent = {(f.mime_type, f.data) for f in gemini_emulator.inline_files()}
    assert sent == {("image/png", stored["image"]), ("application/pdf", pdf)}

"""Taking a turn's files in against the real store and the Telegram, Claude and Whisper
emulators: conversion, download once, upload, transcription, retention, limits."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest_asyncio
from aiogram import Bot
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI
from PIL import Image

from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.state import RunningTurn, ThreadState, initial_state
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.whisper import WhisperEmulator, wav_bytes
from events.billing import UsageChargeRequested
from events.catalog import BillingCommand, ThreadEvent
from events.files import FileReceived, FileTranscribed, FileUploaded
from events.messages import Attachment, TelegramUser, UserMessage
from events.thread import UserMessageReceived
from infra.endpoints import Endpoints
from infra.files.claude_files import ClaudeFiles
from infra.files.intake import FileIntake
from infra.files.pg_store import PostgresFileStore
from infra.files.transcription import WhisperTranscriber
from infra.postgres import create_pool


@pytest_asyncio.fixture(loop_scope="session")
async def store(stack: Endpoints) -> AsyncIterator[PostgresFileStore]:
    pool = await create_pool(stack.database_url, min_size=1, max_size=4)
    store = PostgresFileStore(pool, schema=f"fi_{uuid.uuid4().hex[:10]}")
    await store.migrate()
    yield store
    await store.sweep(stored_before=datetime.now(UTC) + timedelta(days=1))
    await pool.close()


class Recorder:
    """A commit that folds the events into the state and keeps what it was given."""

    def __init__(self, state: ThreadState) -> None:
        self.state = state
        self.events: list[ThreadEvent] = []
        self.charges: list[BillingCommand] = []

    async def __call__(
        self,
        events: Sequence[ThreadEvent],
        charges: Sequence[BillingCommand],
        /,
        *,
        publish_later: bool = False,
    ) -> ThreadState:
        self.events.extend(events)
        self.charges.extend(charges)
        self.state = evolve_all(self.state, list(events))
        return self.state


def _attachment(update: dict[str, Any], kind: str) -> Attachment:
    media = update["message"][kind]
    return Attachment(
        kind=kind,
        file_id=media["file_id"],
        file_unique_id=media["file_unique_id"],
        mime_type=media.get("mime_type"),
        file_name=media.get("file_name"),
        file_size=media.get("file_size"),
        duration_seconds=media.get("duration"),
    )


def _started(chat_id: int, *attachments: Attachment) -> tuple[ThreadState, RunningTurn]:
    message = UserMessage(
        chat_id=chat_id,
        chat_type="private",
        message_id=1,
        sender=TelegramUser(user_id=chat_id, first_name="U"),
        sent_at=datetime.now(UTC),
        text="",
        attachments=attachments,
    )
    cmd = UserMessageReceived(
        id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        key=f"{chat_id}:0",
        correlation_id=str(uuid.uuid4()),
        producer="test",
        message=message,
    )
    decision = decide_messages(initial_state(cmd.key), [cmd], Facts(balance=Decimal(5)))
    state = evolve_all(initial_state(cmd.key), decision.events)
    assert state.running is not None
    return state, state.running


def _heic() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "HEIF")
    return out.getvalue()


async def test_a_heic_photo_is_converted_stored_once_and_uploaded(
    store: PostgresFileStore,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    claude_emulator: ClaudeEmulator,
    anthropic_client: AsyncAnthropic,
) -> None:
    """An iPhone HEIC arrives as a document: it is stored as JPEG, uploaded as an image the
    API accepts, and a second preparation downloads and uploads nothing again."""
    chat = 990001
    telegram_emulator.add_private_chat(chat)
    update = telegram_emulator.send_document(
        chat, _heic(), file_name="IMG_0001.HEIC", mime_type="image/heic"
    )
    state, running = _started(chat, _attachment(update, "document"))
    commit = Recorder(state)
    intake = FileIntake(store, telegram_bot, ClaudeFiles(anthropic_client))
    state, view = await intake.prepare(state, running, commit)
    note = state.history[-1].files[0]
    assert (note.stored_kind, note.stored_mime_type, note.stored_name) == (
        "image", "image/jpeg", "IMG_0001.jpg",
    )  # fmt: skip
    assert note.provider_file_id is not None
    assert claude_emulator.files.files[note.provider_file_id].mime_type == "image/jpeg"
    [received] = [e for e in commit.events if isinstance(e, FileReceived)]
    assert received.converted_from == "image/heic"
    assert view.unavailable == {}
    downloads = len(telegram_emulator.calls("getFile"))
    uploads = len(claude_emulator.files.files)
    await intake.prepare(state, running, commit)
    assert len(telegram_emulator.calls("getFile")) == downloads
    assert len(claude_emulator.files.files) == uploads


async def test_office_files_are_stored_for_the_tools_not_uploaded(
    store: PostgresFileStore,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    claude_emulator: ClaudeEmulator,
    anthropic_client: AsyncAnthropic,
) -> None:
    """A spreadsheet is stored under a sanitised name and listed; the model gets a line
    naming it (the sandbox reads it), nothing is uploaded to the Files API."""
    chat = 990002
    telegram_emulator.add_private_chat(chat)
    update = telegram_emulator.send_document(
        chat,
        b"PK\x03\x04 fake xlsx",
        file_name="Q3 $results.xlsx",
        mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    state, running = _started(chat, _attachment(update, "document"))
    intake = FileIntake(store, telegram_bot, ClaudeFiles(anthropic_client))
    state, _ = await intake.prepare(state, running, Recorder(state))
    [stored] = await store.list(thread_key=f"{chat}:0")
    assert (stored.kind, stored.name) == ("document", "Q3 _results.xlsx")
    assert not [e for e in claude_emulator.requests if e.path == "/v1/files"]
    assert state.history[-1].files[0].stored_id == stored.file_id


async def test_a_video_note_is_transcribed_and_charged_by_its_seconds(
    store: PostgresFileStore,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    anthropic_client: AsyncAnthropic,
    whisper_emulator: WhisperEmulator,
    openai_client: AsyncOpenAI,
) -> None:
    """A voice message's transcript goes to the history and to on_transcript; the charge
    names the Whisper seconds; Whisper down: the model is told it could not be transcribed."""
    chat = 990003
    telegram_emulator.add_private_chat(chat)
    update = telegram_emulator.send_voice(chat, wav_bytes(30.0), duration=30)
    state, running = _started(chat, _attachment(update, "voice"))
    commit = Recorder(state)
    shown: list[str] = []
    whisper_emulator.transcribe_as("call me back at five")
    intake = FileIntake(
        store, telegram_bot, ClaudeFiles(anthropic_client), WhisperTranscriber(openai_client)
    )
    state, _ = await intake.prepare(
        state, running, commit, on_transcript=lambda text, _s: shown.append(text)
    )
    assert shown == ["call me back at five"]
    assert state.history[-1].files[0].transcript == "call me back at five"
    [event] = [e for e in commit.events if isinstance(e, FileTranscribed)]
    assert event.duration_seconds == Decimal("30.0")
    [charge] = commit.charges
    assert isinstance(charge, UsageChargeRequested)
    assert charge.tool_quantities is not None
    assert charge.tool_quantities.whisper_seconds == Decimal("30.0")


async def test_bytes_deleted_by_retention_are_reported_not_uploaded(
    store: PostgresFileStore,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
    claude_emulator: ClaudeEmulator,
    anthropic_client: AsyncAnthropic,
) -> None:
    """After the sweep, an expired upload cannot be renewed: the turn says why."""
    chat = 990004
    telegram_emulator.add_private_chat(chat)
    update = telegram_emulator.send_document(
        chat, b"%PDF-1.4 tiny", file_name="old.pdf", mime_type="application/pdf"
    )
    state, running = _started(chat, _attachment(update, "document"))
    later = [datetime.now(UTC)]
    intake = FileIntake(store, telegram_bot, ClaudeFiles(anthropic_client), now=lambda: later[0])
    state, _ = await intake.prepare(state, running, Recorder(state))
    await store.sweep(stored_before=datetime.now(UTC) + timedelta(seconds=1))
    later[0] = datetime.now(UTC) + timedelta(days=2)  # the 24 h upload has run out
    commit = Recorder(state)
    state, view = await intake.prepare(state, running, commit)
    [reason] = view.unavailable.values()
    assert "retention" in reason
    assert not [e for e in commit.events if isinstance(e, FileUploaded)]

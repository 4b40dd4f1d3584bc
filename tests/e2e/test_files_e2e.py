"""Files end to end: Telegram updates through the gateway process, the thread worker process
taking files in (file store on PostgreSQL, Files API and Whisper emulators), the billing
worker charging; asserting what the user sees, what the model is sent and what is charged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from model_tools_e2e import (
    Processes,
    draft_texts,
    running_bot,
    three_page_pdf,
)
from thread_e2e import WorkerProcess, eventually, worker_env

from devkit.emulators.claude import ClaudeEmulator, text_reply, tool_reply
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.whisper import WhisperEmulator, wav_bytes
from events.files import FileReceived, FileTranscribed, FileUploaded
from events.tools import ToolCallFailed
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow

VOICE, READER, INTRUDER = range(862001, 862004)
FUNDS = dict.fromkeys((VOICE, READER, INTRUDER), "5.00")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def files_worker(
    stack: Endpoints,
    e2e_prefix: str,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    whisper_emulator_server: WhisperEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[WorkerProcess]:
    """A thread worker with Whisper configured (the file store is in the stack's database)."""
    log_dir = tmp_path_factory.mktemp("files-e2e")
    env = worker_env(
        stack,
        e2e_prefix,
        telegram_emulator_server,
        claude_emulator_server,
        OPENAI_API_KEY="emulator-key",
        OPENAI_BASE_URL=whisper_emulator_server.openai_base_url,
    )
    worker = WorkerProcess(stack, e2e_prefix, env, log_dir / "worker.log")
    worker.start()
    yield worker
    await worker.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bot(
    files_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator_server: TelegramEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """Worker ready, users funded before the billing worker folds, then the other processes."""
    log_dir = tmp_path_factory.mktemp("files-e2e-procs")
    async with running_bot(
        files_worker,
        publisher,
        telegram_emulator_server,
        log_dir,
        probe_chat=862000,
        funds=FUNDS,
    ) as procs:
        yield procs


@pytest.fixture
def telegram_emulator(telegram_emulator_server: TelegramEmulator) -> TelegramEmulator:
    """No reset between tests: the gateway polls the emulator all along; chats differ."""
    return telegram_emulator_server


def _file_sources(body: dict[str, Any]) -> list[str]:
    return [
        str(block["source"]["file_id"])
        for message in body["messages"]
        for block in message["content"]
        if isinstance(block, dict)
        and isinstance(block.get("source"), dict)
        and block["source"].get("type") == "file"
    ]


async def test_a_voice_note_is_answered_from_its_transcript_and_charged_per_minute(
    bot: Processes,
    claude_emulator: ClaudeEmulator,
    whisper_emulator: WhisperEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """A 12 s voice note is transcribed before the turn, the transcript is shown in the
    draft, the model answers from it, and the ledger charges 12 Whisper seconds."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    whisper_emulator.transcribe_as("What is the capital of France?", duration=12.0)
    claude_emulator.script(text_reply("The capital of France is Paris.", contains="capital"))
    telegram_emulator.send_voice(VOICE, wav_bytes(12.0), duration=12)
    reply = await sc.answer(VOICE, 1)
    assert "Paris" in (reply.text or ""), bot.logs()
    assert any("capital of France" in t for t in draft_texts(telegram_emulator, VOICE))
    body = claude_emulator.last_message_request().body
    assert "What is the capital of France?" in json.dumps(body)
    [transcribed] = [e for e in await sc.thread_events(VOICE) if isinstance(e, FileTranscribed)]
    assert transcribed.duration_seconds == Decimal("12.0")
    entries = await sc.debits(2, user_id=VOICE)
    [whisper] = [e for e in entries if e.source == "transcription"]
    assert whisper.tool_quantities is not None
    assert whisper.tool_quantities.whisper_seconds == Decimal("12.0")
    [line] = [line for line in whisper.lines if line.item == "whisper"]
    assert line.quantity == Decimal("12.0")
    assert line.amount == Decimal("0.0012")  # 12 s at $0.006 a minute


async def test_a_pdf_sent_in_one_turn_is_analysed_in_the_next_and_reuploaded_when_gone(
    bot: Processes,
    claude_emulator: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """A PDF is stored and uploaded once; the next turn references the same Files API file;
    when the API no longer has it, the worker uploads it again and the turn still works."""
    sc = bot.scenario(telegram_emulator, broker_profile)
    claude_emulator.script(text_reply("Got the report.", contains="keep this"))
    telegram_emulator.send_document(
        READER, three_page_pdf(), file_name="report.pdf", mime_type="application/pdf",
        caption="keep this",
    )  # fmt: skip
    await sc.answer(READER, 1)
    first = _file_sources(claude_emulator.last_message_request().body)
    assert len(first) == 1, bot.logs()
    claude_emulator.script(text_reply("It has three blank pages.", contains="what is in"))
    second_reply = await sc.say(READER, "what is in the PDF I sent?")
    assert "three blank pages" in (second_reply.text or "")
    assert _file_sources(claude_emulator.last_message_request().body) == first
    claude_emulator.expire_file(first[0])
    claude_emulator.script(text_reply("Still three pages.", contains="once more"))
    third_reply = await sc.say(READER, "once more, how many pages?")
    assert "three pages" in (third_reply.text or ""), bot.logs()
    third = _file_sources(claude_emulator.last_message_request().body)
    assert len(third) == 1
    assert third != first
    events = await sc.thread_events(READER)
    [received] = [e for e in events if isinstance(e, FileReceived)]
    uploads = [e for e in events if isinstance(e, FileUploaded)]
    assert [u.provider_file_id for u in uploads] == [first[0], third[0]]
    assert {u.file_id for u in uploads} == {received.file_id}
    assert received.sha256 is not None
    assert received.stored_kind == "pdf"


async def test_a_second_user_cannot_reach_the_first_users_file(
    bot: Processes,
    claude_emulator: ClaudeEmulator,
    telegram_emulator: TelegramEmulator,
    broker_profile: BrokerProfile,
) -> None:
    """Another user's conversation asking a tool for the first user's file id is told it
    does not exist there; nothing of the file reaches the model."""
    sc = bot.scenario(telegram_emulator, broker_profile)

    async def readers_file() -> str | None:
        found = await sc.thread_events(READER)
        return next((e.file_id for e in found if isinstance(e, FileReceived)), None)

    file_id = await eventually(readers_file, 120, interval=0.5)
    if file_id is None:  # run alone: the reader sends their PDF first
        claude_emulator.script(text_reply("Got it.", contains="mine"))
        telegram_emulator.send_document(
            READER, three_page_pdf(), file_name="mine.pdf", mime_type="application/pdf",
            caption="mine",
        )  # fmt: skip
        file_id = await eventually(readers_file, 120, interval=0.5)
    claude_emulator.script_loop(
        tool_reply("preview_file", {"file_id": file_id}),
        text_reply("I can't find that file here."),
        contains="peek at file",
    )
    reply = await sc.say(INTRUDER, f"peek at file {file_id}")
    assert "can't find" in (reply.text or "")
    events = await sc.thread_events(INTRUDER)
    [failed] = [e for e in events if isinstance(e, ToolCallFailed)]
    assert failed.error_class == "not_found"
    last = claude_emulator.last_message_request().body
    assert "PDF-1" not in json.dumps(last)
    assert not _file_sources(last)

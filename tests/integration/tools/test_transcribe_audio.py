"""``transcribe_audio`` on the Whisper adapter the file intake uses, against the Whisper
emulator (the real openai SDK): seconds charged, long transcripts saved as a file, formats and
sizes refused before any upload, and 429 / 5xx / timeouts answered with nothing charged."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tool_harness import providers_with, tool_context, user_file

from actors.thread.tools import transcribe_audio
from actors.thread.tools.base import ToolFailure
from devkit.emulators.whisper import (
    RateLimited,
    ServerError,
    Transcript,
    WhisperEmulator,
    wav_bytes,
)
from infra.files.pg_store import PostgresFileStore
from infra.tools.speech import WhisperSpeech


async def test_an_audio_file_is_transcribed_and_charged_by_the_second(
    file_store: PostgresFileStore, speech: WhisperSpeech, whisper_emulator: WhisperEmulator
) -> None:
    """A 90 s WAV of the thread comes back as text; its seconds are the quantities; the
    language asked for reaches Whisper."""
    note = await user_file(file_store, wav_bytes(90), "interview.wav", "audio/wav", kind="audio")
    whisper_emulator.transcribe_as("Hello and welcome.")
    ctx = tool_context(file_store, files=(note,), providers=providers_with(speech=speech))
    result = await transcribe_audio.run({"file_id": note.id, "language": "en"}, ctx)
    report = json.loads(result.output)
    assert report["transcript"] == "Hello and welcome."
    assert report["seconds"] == 90.0
    assert result.quantities.whisper_seconds == Decimal(90)
    call = whisper_emulator.calls_to("/audio/transcriptions")[-1]
    assert call.body["language"] == "en"
    assert call.body["filename"] == "interview.wav"


async def test_a_video_note_without_a_name_gets_one_whisper_reads(
    file_store: PostgresFileStore, speech: WhisperSpeech, whisper_emulator: WhisperEmulator
) -> None:
    """A video (note) with no usable file name is sent as .mp4, which Whisper takes."""
    note = await user_file(file_store, b"\x00" * 2048, "video_note", "video/mp4", kind="video_note")
    ctx = tool_context(file_store, files=(note,), providers=providers_with(speech=speech))
    await transcribe_audio.run({"file_id": note.id}, ctx)
    assert whisper_emulator.calls_to("/audio/transcriptions")[-1].body["filename"].endswith(".mp4")


async def test_a_long_transcript_is_saved_as_a_file_not_pasted(
    file_store: PostgresFileStore, speech: WhisperSpeech, whisper_emulator: WhisperEmulator
) -> None:
    """Oversized output: a transcript beyond what the model reads comes back as its start
    plus a text file with the whole of it."""
    long_text = "Word after word. " * 1000
    whisper_emulator.transcribe_as(long_text, duration=600)
    note = await user_file(file_store, wav_bytes(1), "lecture.mp3", "audio/mpeg", kind="audio")
    ctx = tool_context(file_store, files=(note,), providers=providers_with(speech=speech))
    result = await transcribe_audio.run({"file_id": note.id}, ctx)
    report = json.loads(result.output)
    assert "transcript" not in report
    assert len(report["transcript_start"]) == transcribe_audio.SHOWN_CHARS
    [saved] = result.new_files
    assert (saved.name, saved.mime_type) == ("lecture_transcript.txt", "text/plain")
    assert saved.data.decode() == long_text.strip()
    assert result.quantities.whisper_seconds == Decimal(600)


async def test_formats_and_sizes_whisper_refuses_are_refused_first(
    file_store: PostgresFileStore, speech: WhisperSpeech, whisper_emulator: WhisperEmulator
) -> None:
    """A .mov video and a file over 25 MB are refused with the reason, Whisper never called."""
    mov = await user_file(file_store, b"\x00" * 100, "clip.mov", "video/quicktime", kind="video")
    big = await user_file(
        file_store, b"\x00" * (26 * 1024 * 1024), "long.mp3", "audio/mpeg", kind="audio"
    )
    ctx = tool_context(file_store, files=(mov, big), providers=providers_with(speech=speech))
    with pytest.raises(ToolFailure, match="not a format Whisper reads") as wrong:
        await transcribe_audio.run({"file_id": mov.id}, ctx)
    with pytest.raises(ToolFailure, match="over 25 MB") as too_big:
        await transcribe_audio.run({"file_id": big.id}, ctx)
    assert wrong.value.error_class == too_big.value.error_class == "invalid_input"
    assert whisper_emulator.calls_to("/audio/transcriptions") == []


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (RateLimited(retry_after=0.01), "rate_limited"),
        (ServerError(), "provider_error"),
    ],
)
async def test_whisper_failures_are_reported_and_not_charged(
    file_store: PostgresFileStore,
    speech: WhisperSpeech,
    whisper_emulator: WhisperEmulator,
    failure: RateLimited | ServerError,
    error_class: str,
) -> None:
    """429 and 500, lasting beyond the SDK's retry, fail the call with their class and
    Whisper's message; nothing was consumed."""
    whisper_emulator.fail_next(failure)
    whisper_emulator.fail_next(failure)
    note = await user_file(file_store, wav_bytes(3), "memo.ogg", "audio/ogg", kind="audio")
    ctx = tool_context(file_store, files=(note,), providers=providers_with(speech=speech))
    with pytest.raises(ToolFailure) as caught:
        await transcribe_audio.run({"file_id": note.id}, ctx)
    assert caught.value.error_class == error_class
    assert "Whisper answered" in caught.value.message
    assert caught.value.quantities.is_zero()
    assert len(whisper_emulator.calls_to("/audio/transcriptions")) == 2


async def test_a_slow_whisper_is_a_timeout(
    file_store: PostgresFileStore, speech: WhisperSpeech, whisper_emulator: WhisperEmulator
) -> None:
    """Whisper answering after the adapter's timeout (each attempt) fails the call as a
    timeout, with nothing charged."""
    whisper_emulator.script(Transcript(text="late", delay=5), Transcript(text="late", delay=5))
    note = await user_file(file_store, wav_bytes(3), "memo.wav", "audio/wav", kind="audio")
    ctx = tool_context(file_store, files=(note,), providers=providers_with(speech=speech))
    with pytest.raises(ToolFailure) as caught:
        await transcribe_audio.run({"file_id": note.id}, ctx)
    assert caught.value.error_class == "timeout"
    assert caught.value.quantities.is_zero()

"""The OpenAI transcription emulator driven by the real openai SDK: formats, scripts,
durations from the audio, failures in OpenAI's error shape, the control API."""

from __future__ import annotations

import struct

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI

from devkit.emulators.whisper import (
    MAX_FILE_BYTES,
    HttpError,
    RateLimited,
    Segment,
    ServerError,
    Transcript,
    WhisperEmulator,
    default_text,
    wav_bytes,
)
from devkit.emulators.whisper.audio import ogg_duration


async def test_default_transcript_is_deterministic(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """An unscripted request gets the default transcript of its file name and size."""
    audio = wav_bytes(2.0)
    result = await openai_client.audio.transcriptions.create(
        file=("voice.wav", audio), model="whisper-1"
    )
    assert result.text == default_text("voice.wav", audio)
    call = whisper_emulator.calls_to("/audio/transcriptions")[0]
    assert call.body["model"] == "whisper-1"
    assert call.body["filename"] == "voice.wav"
    assert call.body["file_size"] == len(audio)


async def test_verbose_json_reports_wav_duration_and_segments(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """verbose_json carries the duration read from the WAV header, the language and segments."""
    whisper_emulator.transcribe_as("Привет. Как дела?")
    result = await openai_client.audio.transcriptions.create(
        file=("note.wav", wav_bytes(7.5)),
        model="whisper-1",
        response_format="verbose_json",
        language="ru",
    )
    assert result.text == "Привет. Как дела?"
    assert result.duration == pytest.approx(7.5)
    assert result.language == "russian"
    assert result.segments is not None
    assert [s.text.strip() for s in result.segments] == ["Привет.", "Как дела?"]
    assert result.segments[-1].end == pytest.approx(7.5)
    assert whisper_emulator.calls[-1].body["language"] == "ru"


async def test_json_usage_and_text_format(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """json reports usage in whole seconds of the scripted duration; text is the bare text."""
    whisper_emulator.script(Transcript(text="one two", duration=61.2))
    whisper_emulator.transcribe_as("plain words")
    as_json = await openai_client.audio.transcriptions.create(
        file=("a.mp3", b"ID3 not really mp3"), model="gpt-4o-mini-transcribe"
    )
    assert as_json.text == "one two"
    assert as_json.usage is not None
    assert as_json.usage.type == "duration"
    assert as_json.usage.seconds == 61
    as_text = await openai_client.audio.transcriptions.create(
        file=("b.ogg", b"OggS"), model="whisper-1", response_format="text"
    )
    assert as_text.strip() == "plain words"


async def test_segments_scripted_set_duration(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """Scripted segments are returned verbatim and their end is the duration."""
    whisper_emulator.script(
        Transcript(
            text="a b",
            segments=[Segment(start=0, end=1.5, text=" a"), Segment(start=1.5, end=4.0, text=" b")],
        )
    )
    result = await openai_client.audio.transcriptions.create(
        file=("x.webm", b"\x1a\x45\xdf\xa3"), model="whisper-1", response_format="verbose_json"
    )
    assert result.duration == pytest.approx(4.0)
    assert result.segments is not None
    assert [(s.start, s.end) for s in result.segments] == [(0, 1.5), (1.5, 4.0)]


async def test_scripts_match_by_file_name(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """A script with filename_contains waits for a request whose file name matches."""
    whisper_emulator.transcribe_as("for the voice note", filename_contains="voice")
    other = await openai_client.audio.transcriptions.create(
        file=("song.mp3", b"x"), model="whisper-1"
    )
    voice = await openai_client.audio.transcriptions.create(
        file=("voice-1.ogg", b"x"), model="whisper-1"
    )
    assert other.text == default_text("song.mp3", b"x")
    assert voice.text == "for the voice note"


async def test_rate_limit_then_sdk_retry_honours_retry_after(
    whisper_emulator: WhisperEmulator,
) -> None:
    """429 carries retry-after; the SDK's own retry then gets the transcript."""
    whisper_emulator.fail_next(RateLimited(retry_after=0.01))
    whisper_emulator.transcribe_as("after the wait")
    async with AsyncOpenAI(
        base_url=whisper_emulator.openai_base_url, api_key="k", max_retries=1
    ) as client:
        result = await client.audio.transcriptions.create(file=("a.wav", b""), model="whisper-1")
    assert result.text == "after the wait"
    assert len(whisper_emulator.calls) == 2


async def test_rate_limit_error_shape(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """With no retries left the SDK raises RateLimitError with OpenAI's error body."""
    whisper_emulator.fail_next(RateLimited(retry_after=3))
    with pytest.raises(openai.RateLimitError) as caught:
        await openai_client.audio.transcriptions.create(file=("a.wav", b""), model="whisper-1")
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.code == "rate_limit_exceeded"


async def test_server_error_and_custom_error(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """500 raises InternalServerError; HttpError answers any status and code."""
    whisper_emulator.fail_next(ServerError())
    whisper_emulator.fail_next(HttpError(status=403, message="region", code="unsupported_country"))
    with pytest.raises(openai.InternalServerError):
        await openai_client.audio.transcriptions.create(file=("a.wav", b""), model="whisper-1")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await openai_client.audio.transcriptions.create(file=("a.wav", b""), model="whisper-1")
    assert caught.value.code == "unsupported_country"


async def test_unsupported_format_is_400(openai_client: AsyncOpenAI) -> None:
    """A file whose extension is no audio format answers 400 invalid_request_error."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.audio.transcriptions.create(
            file=("notes.txt", b"hi"), model="whisper-1"
        )
    assert "Invalid file format" in caught.value.message
    assert caught.value.param == "file"


async def test_verbose_json_needs_whisper_1(openai_client: AsyncOpenAI) -> None:
    """gpt-4o transcribe models refuse verbose_json, as upstream."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.audio.transcriptions.create(
            file=("a.wav", b""), model="gpt-4o-transcribe", response_format="verbose_json"
        )
    assert caught.value.code == "unsupported_value"


async def test_file_over_25_mb_is_refused(openai_client: AsyncOpenAI) -> None:
    """A file over 25 MB answers 413 with the size in the message."""
    with pytest.raises(openai.APIStatusError) as caught:
        await openai_client.audio.transcriptions.create(
            file=("big.wav", b"\0" * (MAX_FILE_BYTES + 1)), model="whisper-1"
        )
    assert caught.value.status_code == 413
    assert "Maximum content size limit" in caught.value.message


async def test_wrong_key_is_401() -> None:
    """With api_keys set, another key answers 401 AuthenticationError."""
    async with (
        WhisperEmulator(api_keys={"good"}) as emulator,
        AsyncOpenAI(base_url=emulator.openai_base_url, api_key="bad", max_retries=0) as client,
    ):
        with pytest.raises(openai.AuthenticationError):
            await client.audio.transcriptions.create(file=("a.wav", b""), model="whisper-1")


async def test_control_api_scripts_failures_as_json(
    openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator
) -> None:
    """Transcripts and failures posted as JSON are served in order; requests read back."""
    scripts = [
        {"failure": {"kind": "rate_limited", "retry_after": 2}},
        {"text": "over http", "duration": 3},
    ]
    async with aiohttp.ClientSession(base_url=whisper_emulator.base_url) as http:
        async with http.post("/_control/transcripts", json={"transcripts": scripts}) as resp:
            assert (await resp.json())["pending"] == 2
        with pytest.raises(openai.RateLimitError):
            await openai_client.audio.transcriptions.create(file=("a.wav", b""), model="whisper-1")
        result = await openai_client.audio.transcriptions.create(
            file=("a.wav", b""), model="whisper-1"
        )
        assert result.text == "over http"
        async with http.get("/_control/requests") as resp:
            assert len((await resp.json())["requests"]) == 2
        async with http.post("/_control/reset") as resp:
            assert resp.status == 200
    assert whisper_emulator.calls == []


def test_ogg_opus_duration() -> None:
    """An Ogg Opus file's duration is its last granule less the pre-skip, at 48 kHz."""
    head = b"OggS" + bytes(24) + b"OpusHead" + bytes([1, 1]) + struct.pack("<H", 312)
    last = b"OggS\x00\x04" + struct.pack("<q", 312 + 48_000 * 3) + bytes(14)
    assert ogg_duration(head + last) == pytest.approx(3.0)


async def test_srt_subtitles(openai_client: AsyncOpenAI, whisper_emulator: WhisperEmulator) -> None:
    """srt numbers the segments with comma-millisecond timestamps."""
    whisper_emulator.transcribe_as("First. Second!", duration=4.0)
    srt = await openai_client.audio.transcriptions.create(
        file=("a.wav", b""), model="whisper-1", response_format="srt"
    )
    assert srt.splitlines()[:3] == ["1", "00:00:00,000 --> 00:00:01,850", "First."]

"""An emulator whose client goes away mid-response (a cancelled stream, a stopped service)
notes it on a debug line, without aiohttp's error traceback; real handler errors stay loud."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.testing import make_anthropic
from devkit.harness.topics import eventually

MODEL = "claude-sonnet-4-6"


async def test_a_stream_abandoned_by_its_client_ends_quietly(
    claude_emulator: ClaudeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The client reads the first delta of a slow stream and closes it: the emulator's
    handler, failing at its next write, logs a debug line and no error."""
    claude_emulator.script(text_reply("word " * 200, chunk_size=5, chunk_delay=0.02))
    client = make_anthropic(claude_emulator)
    caplog.set_level(logging.DEBUG, logger="devkit.emulators._http")
    try:
        async with client.messages.stream(
            model=MODEL, max_tokens=1000, messages=[{"role": "user", "content": "talk"}]
        ) as stream:
            async for _ in stream.text_stream:
                break
    finally:
        await client.close()
    # the handler notices at its next write
    (left,) = await eventually(
        lambda: [r for r in caplog.records if r.name == "devkit.emulators._http"]
    )
    assert left.levelno == logging.DEBUG
    assert "client left" in left.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_handler_error_with_the_client_still_there_stays_loud(
    telegram_emulator: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler failing for any other reason (here a body that is not JSON) is still
    logged as an error by aiohttp."""
    async with aiohttp.ClientSession() as session:
        url = f"{telegram_emulator.base_url}/_control/_/inject/message"
        async with session.post(url, data=b"not json") as response:
            assert response.status == 500
    assert [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "aiohttp.server"]

"""Pytest fixtures for the emulators (usable as a plugin: ``pytest_plugins = [...]`` in a root
conftest, or imported by name into a conftest), plus plain helpers for non-pytest code.

Servers are session-scoped (one port each for the whole run); the function-scoped fixtures
reset their state before each test, so every test starts from empty chats and no scripts.
They run on the session event loop (this project's pytest default).

- ``telegram_emulator``: a clean `TelegramEmulator` (default flood limits, restored after)
- ``claude_emulator``: a clean `ClaudeEmulator`
- ``telegram_bot``: an aiogram `Bot` bound to the emulator with the default token
- ``anthropic_client``: an `AsyncAnthropic` bound to the emulator, ``max_retries=0``
- ``whisper_emulator``: a clean `WhisperEmulator` (OpenAI audio transcriptions)
- ``openai_client``: an `AsyncOpenAI` bound to the Whisper emulator, ``max_retries=0``
- ``gemini_emulator``: a clean `GeminiEmulator` (Gemini Developer API)
- ``genai_client``: a google-genai `Client` bound to the Gemini emulator (no retries)
- ``e2b_emulator``: a clean `E2BEmulator` (sandboxes; ``sdk_options(e2b_emulator)`` for the SDK)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from anthropic import AsyncAnthropic
from google import genai
from google.genai import types as genai_types
from openai import AsyncOpenAI

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.e2b_sandbox import E2BEmulator
from devkit.emulators.gemini import GeminiEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.whisper import WhisperEmulator


@asynccontextmanager
async def running_telegram(**kwargs: Any) -> AsyncIterator[TelegramEmulator]:
    """A started TelegramEmulator, stopped on exit."""
    emulator = TelegramEmulator(**kwargs)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@asynccontextmanager
async def running_claude(**kwargs: Any) -> AsyncIterator[ClaudeEmulator]:
    """A started ClaudeEmulator, stopped on exit."""
    emulator = ClaudeEmulator(**kwargs)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def make_bot(emulator: TelegramEmulator, token: str | None = None) -> Bot:
    """An aiogram Bot whose session talks to the emulator (close its session when done)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    return Bot(token or emulator.token, session=session)


def make_anthropic(emulator: ClaudeEmulator, **kwargs: Any) -> AsyncAnthropic:
    """An AsyncAnthropic bound to the emulator; max_retries defaults to 0."""
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("api_key", "emulator-key")
    return AsyncAnthropic(base_url=emulator.base_url, **kwargs)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def telegram_emulator_server() -> AsyncIterator[TelegramEmulator]:
    async with running_telegram() as emulator:
        yield emulator


@pytest_asyncio.fixture(loop_scope="session")
async def telegram_emulator(
    telegram_emulator_server: TelegramEmulator,
) -> AsyncIterator[TelegramEmulator]:
    emulator = telegram_emulator_server
    config = emulator.world.flood.config
    emulator.reset()
    yield emulator
    emulator.world.configure_flood(config)
    emulator.reset()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def claude_emulator_server() -> AsyncIterator[ClaudeEmulator]:
    async with running_claude() as emulator:
        yield emulator


@pytest_asyncio.fixture(loop_scope="session")
async def claude_emulator(claude_emulator_server: ClaudeEmulator) -> AsyncIterator[ClaudeEmulator]:
    claude_emulator_server.reset()
    yield claude_emulator_server
    claude_emulator_server.reset()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _telegram_bot_session(telegram_emulator_server: TelegramEmulator) -> AsyncIterator[Bot]:
    bot = make_bot(telegram_emulator_server)
    yield bot
    await bot.session.close()


@pytest_asyncio.fixture(loop_scope="session")
async def telegram_bot(telegram_emulator: TelegramEmulator, _telegram_bot_session: Bot) -> Bot:
    return _telegram_bot_session


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _anthropic_session(
    claude_emulator_server: ClaudeEmulator,
) -> AsyncIterator[AsyncAnthropic]:
    client = make_anthropic(claude_emulator_server)
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def anthropic_client(
    claude_emulator: ClaudeEmulator, _anthropic_session: AsyncAnthropic
) -> AsyncAnthropic:
    return _anthropic_session


def make_openai(emulator: WhisperEmulator, **kwargs: Any) -> AsyncOpenAI:
    """An AsyncOpenAI bound to the Whisper emulator; max_retries defaults to 0."""
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("api_key", "emulator-key")
    return AsyncOpenAI(base_url=emulator.openai_base_url, **kwargs)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def whisper_emulator_server() -> AsyncIterator[WhisperEmulator]:
    async with WhisperEmulator() as emulator:
        yield emulator


@pytest_asyncio.fixture(loop_scope="session")
async def whisper_emulator(
    whisper_emulator_server: WhisperEmulator,
) -> AsyncIterator[WhisperEmulator]:
    whisper_emulator_server.reset()
    yield whisper_emulator_server
    whisper_emulator_server.reset()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _openai_session(whisper_emulator_server: WhisperEmulator) -> AsyncIterator[AsyncOpenAI]:
    client = make_openai(whisper_emulator_server)
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def openai_client(
    whisper_emulator: WhisperEmulator, _openai_session: AsyncOpenAI
) -> AsyncOpenAI:
    return _openai_session


def make_genai(emulator: GeminiEmulator, **http_options: Any) -> genai.Client:
    """A google-genai Client bound to the Gemini emulator (use its `.aio` for async calls)."""
    return genai.Client(
        api_key="emulator-key",
        http_options=genai_types.HttpOptions(base_url=emulator.base_url, **http_options),
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def gemini_emulator_server() -> AsyncIterator[GeminiEmulator]:
    async with GeminiEmulator() as emulator:
        yield emulator


@pytest_asyncio.fixture(loop_scope="session")
async def gemini_emulator(gemini_emulator_server: GeminiEmulator) -> AsyncIterator[GeminiEmulator]:
    gemini_emulator_server.reset()
    yield gemini_emulator_server
    gemini_emulator_server.reset()


@pytest_asyncio.fixture(loop_scope="session")
async def genai_client(gemini_emulator: GeminiEmulator) -> AsyncIterator[genai.Client]:
    client = make_genai(gemini_emulator)
    yield client
    await client.aio.aclose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2b_emulator_server() -> AsyncIterator[E2BEmulator]:
    async with E2BEmulator() as emulator:
        yield emulator


@pytest_asyncio.fixture(loop_scope="session")
async def e2b_emulator(e2b_emulator_server: E2BEmulator) -> AsyncIterator[E2BEmulator]:
    limit = e2b_emulator_server.execution_limit
    e2b_emulator_server.reset()
    yield e2b_emulator_server
    e2b_emulator_server.execution_limit = limit
    e2b_emulator_server.reset()

"""The provider tools' adapters on the emulators, through the real SDKs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from devkit.emulators.e2b_sandbox import E2BEmulator
from devkit.emulators.gemini import GeminiEmulator
from devkit.emulators.testing import make_openai
from devkit.emulators.whisper import WhisperEmulator
from infra.endpoints import Endpoints
from infra.files.pg_store import PostgresFileStore
from infra.files.transcription import WhisperTranscriber
from infra.postgres import create_pool
from infra.tools.e2b_sandbox import E2BConfig, E2BSandboxes
from infra.tools.gemini_images import GeminiImageConfig, GeminiImages
from infra.tools.speech import WhisperSpeech


@pytest_asyncio.fixture(loop_scope="session")
async def sandboxes(e2b_emulator: E2BEmulator) -> AsyncIterator[E2BSandboxes]:
    pool = E2BSandboxes(
        E2BConfig(
            api_key="emulator-key",
            api_url=e2b_emulator.base_url,
            sandbox_url=e2b_emulator.base_url,
            http_version="1.1",
            idle_timeout=300,
        )
    )
    yield pool
    await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def images(gemini_emulator: GeminiEmulator) -> AsyncIterator[GeminiImages]:
    client = GeminiImages(
        GeminiImageConfig(
            api_key="emulator-key",
            base_url=gemini_emulator.base_url,
            timeout=5.0,
            attempts=3,
            initial_delay=0.01,
        )
    )
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def file_store(stack: Endpoints) -> AsyncIterator[PostgresFileStore]:
    """The thread file store in a schema of its own (its blobs unlinked afterwards)."""
    pool = await create_pool(stack.database_url, min_size=1, max_size=4)
    store = PostgresFileStore(pool, schema=f"fs_{uuid.uuid4().hex[:10]}")
    await store.migrate()
    yield store
    await store.sweep(stored_before=datetime.now(UTC) + timedelta(days=1))
    await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def speech(whisper_emulator: WhisperEmulator) -> AsyncIterator[WhisperSpeech]:
    """Whisper as the worker wires it (one retry here, and a 2 s timeout, to keep the
    failure tests short)."""
    client = make_openai(whisper_emulator)
    yield WhisperSpeech(WhisperTranscriber(client, timeout=2.0, max_retries=1))
    await client.close()

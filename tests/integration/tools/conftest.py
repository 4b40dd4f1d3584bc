"""The provider tools' adapters on the emulators, through the real SDKs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from infra.emulators.e2b_sandbox import E2BEmulator
from infra.emulators.gemini import GeminiEmulator
from infra.tools.e2b_sandbox import E2BConfig, E2BSandboxes
from infra.tools.gemini_images import GeminiImageConfig, GeminiImages


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

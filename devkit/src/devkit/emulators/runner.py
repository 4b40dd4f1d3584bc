"""Start the emulators together (for the offline demo, benchmarks and `botctl emulators`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.e2b_sandbox import E2BEmulator
from devkit.emulators.gemini import GeminiEmulator
from devkit.emulators.telegram import DEFAULT_TOKEN, TelegramEmulator
from devkit.emulators.whisper import WhisperEmulator


@dataclass(slots=True)
class RunningEmulators:
    telegram: TelegramEmulator
    claude: ClaudeEmulator
    whisper: WhisperEmulator
    gemini: GeminiEmulator
    e2b: E2BEmulator

    @property
    def env(self) -> dict[str, str]:
        """The environment a bot process needs to talk to these emulators."""
        return {
            "TELEGRAM_API_URL": self.telegram.base_url,
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "ANTHROPIC_BASE_URL": self.claude.base_url,
            "ANTHROPIC_API_KEY": "emulator-key",
            "OPENAI_BASE_URL": self.whisper.openai_base_url,
            "OPENAI_API_KEY": "emulator-key",
            "GOOGLE_GEMINI_BASE_URL": self.gemini.base_url,
            "GOOGLE_API_KEY": "emulator-key",
            # the e2b SDK reads these itself (HTTP/1.1: its default HTTP/2 needs TLS)
            "E2B_API_URL": self.e2b.base_url,
            "E2B_SANDBOX_URL": self.e2b.base_url,
            "E2B_HTTP_VERSION": "1.1",
            "E2B_API_KEY": "emulator-key",
        }

    async def stop(self) -> None:
        await self.telegram.stop()
        await self.claude.stop()
        await self.whisper.stop()
        await self.gemini.stop()
        await self.e2b.stop()


async def start_emulators(
    *,
    host: str = "127.0.0.1",
    telegram_port: int = 0,
    claude_port: int = 0,
    token: str = DEFAULT_TOKEN,
    flood: bool = True,
    whisper_port: int = 0,
    gemini_port: int = 0,
    e2b_port: int = 0,
) -> RunningEmulators:
    """Start every server (port 0: any free port) and return them, running."""
    telegram = TelegramEmulator(token)
    if not flood:
        telegram.configure_flood(enabled=False)
    running = RunningEmulators(
        telegram, ClaudeEmulator(), WhisperEmulator(), GeminiEmulator(), E2BEmulator()
    )
    try:
        await telegram.start(host, telegram_port)
        await running.claude.start(host, claude_port)
        await running.whisper.start(host, whisper_port)
        await running.gemini.start(host, gemini_port)
        await running.e2b.start(host, e2b_port)
    except BaseException:
        await running.stop()
        raise
    return running


async def serve_emulators(
    *,
    host: str = "127.0.0.1",
    telegram_port: int = 0,
    claude_port: int = 0,
    token: str = DEFAULT_TOKEN,
    flood: bool = True,
    on_ready: Callable[[RunningEmulators], None] | None = None,
    stop: asyncio.Event | None = None,
    whisper_port: int = 0,
    gemini_port: int = 0,
    e2b_port: int = 0,
) -> None:
    """Run the emulators until `stop` is set, SIGINT/SIGTERM arrives, or the task is cancelled."""
    running = await start_emulators(
        host=host,
        telegram_port=telegram_port,
        claude_port=claude_port,
        token=token,
        flood=flood,
        whisper_port=whisper_port,
        gemini_port=gemini_port,
        e2b_port=e2b_port,
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        if on_ready is not None:
            on_ready(running)
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await running.stop()

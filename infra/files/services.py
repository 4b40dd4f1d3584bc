"""The thread worker's file services, built from the settings: the store (PostgreSQL large
objects in ``FILE_STORE_URL``'s database, else ``DATABASE_URL``'s), the intake the turns use,
the tools' view of the store, Whisper when ``OPENAI_API_KEY`` is set, and the retention sweep
(``FILE_RETENTION_DAYS``, hourly). Without a reachable database the worker runs without a
store: input files are then inlined into their own turn only, as before the store existed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg

from infra.files.claude_files import ClaudeFiles
from infra.files.intake import FileIntake
from infra.files.pg_store import PostgresFileStore, sweep_forever
from infra.files.thread_files import StoreFiles
from infra.files.transcription import WhisperTranscriber
from infra.postgres import StoreTimeout, create_pool
from infra.settings import Settings

if TYPE_CHECKING:
    import anthropic
    from aiogram import Bot

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FileServices:
    tools: StoreFiles
    intake: FileIntake | None = None
    store: PostgresFileStore | None = None
    transcriber: WhisperTranscriber | None = None
    """Whisper for the transcribe_audio tool too (one adapter for intake and tool)."""
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()


async def start_file_services(
    settings: Settings,
    database_url: str | None,
    bot: Bot,
    claude: anthropic.AsyncAnthropic | Callable[[], anthropic.AsyncAnthropic],
) -> FileServices:
    """The file services; ``claude`` is the SDK client for the Files API uploads, or what
    makes it on the first upload (the SDK is not imported before)."""
    dsn = settings.file_store_url.reveal() if settings.file_store_url else database_url
    if not dsn:
        log.warning("no database for the file store: files are read in their own turn only")
        return FileServices(tools=StoreFiles(None, bot))
    try:
        async with asyncio.timeout(15):
            pool = await create_pool(dsn, min_size=1, max_size=4)
            store = PostgresFileStore(pool)
            await store.migrate()
    except (OSError, TimeoutError, StoreTimeout, asyncpg.PostgresError) as exc:
        log.warning("file store unreachable, files are read in their own turn only: %s", exc)
        return FileServices(tools=StoreFiles(None, bot))
    services = FileServices(tools=StoreFiles(store, bot), store=store, closers=[pool.close])
    transcriber = None
    if settings.openai_api_key is not None:
        import openai  # only then: the SDK costs start-up time and memory

        whisper = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.reveal(), base_url=settings.openai_base_url
        )
        services.closers.append(whisper.close)
        transcriber = WhisperTranscriber(whisper)
    services.transcriber = transcriber
    services.intake = FileIntake(store, bot, ClaudeFiles(claude), transcriber)
    if settings.file_retention_days > 0:
        sweeper = asyncio.create_task(sweep_forever(store, settings.file_retention_days))

        async def stop_sweeper() -> None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

        services.closers.append(stop_sweeper)
    return services

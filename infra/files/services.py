"""The thread worker's file services, built from the settings: the store (PostgreSQL large
objects in ``FILE_STORE_URL``'s database, else ``DATABASE_URL``'s), the intake the turns use,
the tools' view of the store, Whisper when ``OPENAI_API_KEY`` is set, and the retention sweep
(``FILE_RETENTION_DAYS``, hourly). While the database cannot be reached the worker runs
without a store (input files are inlined into their own turn only, as before the store
existed) and connects again every :data:`RECONNECT_EVERY` seconds: once it answers, the
store is attached to the running services (:meth:`FileServices.on_ready`), without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

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

RECONNECT_EVERY: Final = 30.0
"""Seconds between attempts to reach the file store's database after it did not answer."""
CONNECT_TIMEOUT: Final = 15.0


@dataclass(slots=True)
class FileServices:
    tools: StoreFiles
    intake: FileIntake | None = None
    store: PostgresFileStore | None = None
    transcriber: WhisperTranscriber | None = None
    """Whisper for the transcribe_audio tool too (one adapter for intake and tool)."""
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    ready: list[Callable[[FileIntake], object]] = field(default_factory=list)

    def on_ready(self, attach: Callable[[FileIntake], object]) -> None:
        """Call ``attach`` with the intake once the store is attached (now, if it is)."""
        if self.intake is not None:
            attach(self.intake)
        else:
            self.ready.append(attach)

    async def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()


@dataclass(slots=True)
class _StoreSource:
    """How to reach the store and what to build on it."""

    dsn: str
    settings: Settings
    bot: Bot
    claude: anthropic.AsyncAnthropic | Callable[[], anthropic.AsyncAnthropic]

    async def attach(self, services: FileServices) -> bool:
        """Connect and migrate; on success put the store into ``services`` (tools, intake,
        retention sweep) and tell those waiting for it. False (logged) when unreachable."""
        pool: asyncpg.Pool | None = None
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                pool = await create_pool(self.dsn, min_size=1, max_size=4)
                store = PostgresFileStore(pool)
                await store.migrate()
        except (OSError, TimeoutError, StoreTimeout, asyncpg.PostgresError) as exc:
            log.warning(
                "file store unreachable, files are read in their own turn only "
                "(trying again in %g s): %s",
                RECONNECT_EVERY,
                exc,
            )
            if pool is not None:  # connected, but the migration failed: not kept open
                pool.terminate()
            return False
        services.closers.append(pool.close)
        services.store = services.tools.store = store
        intake = FileIntake(store, self.bot, ClaudeFiles(self.claude), services.transcriber)
        services.intake = intake
        days = self.settings.file_retention_days
        if days > 0:
            services.closers.append(_background(sweep_forever(store, days)))
        for attach in services.ready:
            attach(intake)
        services.ready.clear()
        return True


async def start_file_services(
    settings: Settings,
    database_url: str | None,
    bot: Bot,
    claude: anthropic.AsyncAnthropic | Callable[[], anthropic.AsyncAnthropic],
    *,
    reconnect_every: float = RECONNECT_EVERY,
) -> FileServices:
    """The file services; ``claude`` is the SDK client for the Files API uploads, or what
    makes it on the first upload (the SDK is not imported before)."""
    services = FileServices(tools=StoreFiles(None, bot))
    if settings.openai_api_key is not None:
        import openai  # only then: the SDK costs start-up time and memory

        whisper = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.reveal(), base_url=settings.openai_base_url
        )
        services.closers.append(whisper.close)
        services.transcriber = WhisperTranscriber(whisper)
    dsn = settings.file_store_url.reveal() if settings.file_store_url else database_url
    if not dsn:
        log.warning("no database for the file store: files are read in their own turn only")
        return services
    source = _StoreSource(dsn, settings, bot, claude)
    if not await source.attach(services):
        services.closers.append(_background(_keep_trying(source, services, reconnect_every)))
    return services


async def _keep_trying(source: _StoreSource, services: FileServices, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            attached = await source.attach(services)
        except Exception:  # whatever it was, the worker runs on without a store: try again
            log.exception("attaching the file store failed; trying again in %g s", every)
            continue
        if attached:
            log.info("file store reachable again: files are kept in the store")
            return


def _background(work: Awaitable[None]) -> Callable[[], Awaitable[None]]:
    """Run ``work`` in the background; answers what cancels it and waits for its end."""
    task = asyncio.ensure_future(work)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop

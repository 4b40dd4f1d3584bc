"""The thread worker's file services when the file store's database does not answer at
start: the worker runs without the store, and attaches it once the database answers."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.testing import make_bot
from infra.endpoints import Endpoints
from infra.files.intake import FileIntake
from infra.files.services import start_file_services
from infra.settings import load_settings


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def test_a_store_unreachable_at_start_is_attached_once_its_database_answers(
    stack: Endpoints, telegram_emulator_server: TelegramEmulator
) -> None:
    """The store's database does not exist yet at start: no store, files read in their own
    turn; once it exists, the next attempt attaches the store (tools and intake) and tells
    the turn runner, with no restart."""
    name = f"fs_later_{uuid.uuid4().hex[:8]}"
    dsn = _with_database(stack.database_url, name)
    settings = load_settings({"FILE_STORE_URL": dsn, "FILE_RETENTION_DAYS": "0"})
    bot = make_bot(telegram_emulator_server)
    attached: list[FileIntake] = []
    admin = await asyncpg.connect(stack.database_url)
    try:
        services = await start_file_services(
            settings,
            None,
            bot,
            lambda: None,
            reconnect_every=0.2,  # type: ignore[arg-type,return-value]
        )
        try:
            assert services.store is None
            assert services.intake is None
            assert services.tools.store is None
            services.on_ready(attached.append)
            await admin.execute(f'CREATE DATABASE "{name}"')
            async with asyncio.timeout(30):
                while not attached:  # noqa: ASYNC110 - the services' own retry attaches it
                    await asyncio.sleep(0.1)
            assert attached == [services.intake]
            assert services.store is not None
            assert services.tools.store is services.store
            assert await services.store.list(thread_key="1:0") == []  # migrated, usable
        finally:
            await services.close()
    finally:
        await bot.session.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

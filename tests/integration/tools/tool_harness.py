"""Helpers of the provider tool tests: a tool context on real adapters, user files held by
the Telegram emulator, a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiogram import Bot

from actors.thread.state import FileNote
from actors.thread.tools.base import ModelReply, ToolContext, ToolFailure
from actors.thread.tools.providers import UNAVAILABLE, Providers
from events.usage import SONNET
from infra.emulators.telegram import TelegramEmulator
from infra.threads.tool_ports import TelegramFilesPort

CHAT_ID = 424242


class NoModel:
    """The tools under test make no Claude call."""

    async def create(self, request: Any, **_: Any) -> ModelReply:
        raise ToolFailure("provider_error", "no Claude call is expected here")


class Clock:
    """A monotonic clock the test moves (idle timeouts without waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def user_file(telegram: TelegramEmulator, data: bytes, name: str, mime: str) -> FileNote:
    """A document the user sent (held by the Telegram emulator), as the thread notes it."""
    telegram.add_private_chat(CHAT_ID)
    update = telegram.send_document(CHAT_ID, data, file_name=name, mime_type=mime)
    document = update["message"]["document"]
    return FileNote(
        kind="document",
        file_id=document["file_id"],
        mime_type=mime,
        file_name=name,
        file_size=len(data),
    )


def providers_with(**ports: Any) -> Providers:
    """:data:`UNAVAILABLE` with some ports replaced by real adapters."""
    fields: dict[str, Any] = {
        "sandbox": UNAVAILABLE.sandbox,
        "images": UNAVAILABLE.images,
        "speech": UNAVAILABLE.speech,
        "latex": UNAVAILABLE.latex,
        "delivery": UNAVAILABLE.delivery,
    }
    fields.update(ports)
    return Providers(**fields)


def tool_context(
    bot: Bot,
    *,
    files: tuple[FileNote, ...] = (),
    providers: Providers = UNAVAILABLE,
    tool_use_id: str = "toolu_0000000001",
    thread_key: str = str(CHAT_ID),
) -> ToolContext:
    """A call's context: the thread's files read through the Telegram emulator."""
    return ToolContext(
        thread_key=thread_key,
        user_id=CHAT_ID,
        turn_id="00000000-0000-7000-8000-000000000001",
        tool_use_id=tool_use_id,
        model=SONNET,
        history=(),
        files=files,
        claude=NoModel(),
        file_store=TelegramFilesPort(bot),
        balance=Decimal(1),
        now=datetime.now(UTC),
        providers=providers,
        chat_id=CHAT_ID,
    )

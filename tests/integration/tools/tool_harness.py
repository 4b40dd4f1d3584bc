"""Helpers of the provider tool tests: a tool context on real adapters, user files in the
thread's file store (PostgreSQL), a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from actors.thread.file_store import FileStore, NewFile
from actors.thread.models import SONNET
from actors.thread.state import FileNote
from actors.thread.tools.base import ModelReply, ToolContext, ToolFailure
from actors.thread.tools.providers import UNAVAILABLE, Providers
from infra.files.thread_files import ScopedFiles

CHAT_ID = 424242
THREAD_KEY = str(CHAT_ID)


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


async def user_file(
    store: FileStore,
    data: bytes,
    name: str,
    mime: str,
    *,
    kind: str = "document",
    stored_kind: str = "document",
    thread_key: str = THREAD_KEY,
) -> FileNote:
    """A file the user sent, stored in the thread's file store, as the history notes it."""
    new = NewFile(
        thread_key=thread_key,
        owner_user_id=CHAT_ID,
        origin="user",
        name=name,
        mime_type=mime,
        kind=stored_kind,
    )
    stored = await store.put(new, data)
    return FileNote(
        kind=kind,
        file_id=f"tg-{stored.file_id[:8]}",
        mime_type=mime,
        file_name=name,
        file_size=len(data),
        stored_id=stored.file_id,
        stored_kind=stored.kind,
        stored_name=stored.name,
        stored_mime_type=stored.mime_type,
        stored_size=stored.size_bytes,
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
    store: FileStore,
    *,
    files: tuple[FileNote, ...] = (),
    providers: Providers = UNAVAILABLE,
    tool_use_id: str = "toolu_0000000001",
    thread_key: str = THREAD_KEY,
) -> ToolContext:
    """A call's context: the thread's files in the file store, reached as its user."""
    return ToolContext(
        thread_key=thread_key,
        user_id=CHAT_ID,
        turn_id="00000000-0000-7000-8000-000000000001",
        tool_use_id=tool_use_id,
        model=SONNET,
        history=(),
        files=files,
        claude=NoModel(),
        file_store=ScopedFiles(store, None, thread_key, CHAT_ID),
        balance=Decimal(1),
        now=datetime.now(UTC),
        providers=providers,
        chat_id=CHAT_ID,
    )

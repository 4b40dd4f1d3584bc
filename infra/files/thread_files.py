"""The thread's files as a tool reaches them (:class:`~actors.thread.tools.base.FilesPort`):
the file store bound to one thread and one user, with store errors translated into
:class:`~actors.thread.tools.base.ToolFailure` the model reads.

An attachment received before the store existed (a history note without ``stored_id``) is
still read from Telegram (getFile + download), as before.
"""

from __future__ import annotations

from typing import Final

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from actors.thread.file_store import (
    FileBytesDeleted,
    FileNotFound,
    FileOrigin,
    FileStore,
    NewFile,
    StoredFile,
    StoreUnavailable,
)
from actors.thread.state import FileNote
from actors.thread.tools.base import FilesPort, ToolFailure

NO_STORE: Final = "files cannot be stored here (the file store is not configured)"


class StoreFiles:
    """:class:`~actors.thread.tools.base.FilesSource`: one :class:`ScopedFiles` per call."""

    def __init__(self, store: FileStore | None, bot: Bot | None) -> None:
        self.store = store
        self.bot = bot

    def for_thread(self, thread_key: str, user_id: int) -> FilesPort:
        return ScopedFiles(self.store, self.bot, thread_key, user_id)


class ScopedFiles:
    """The store seen from one thread by one user (a file elsewhere is ``not_found``)."""

    def __init__(
        self, store: FileStore | None, bot: Bot | None, thread_key: str, user_id: int
    ) -> None:
        self._store = store
        self._bot = bot
        self.thread_key = thread_key
        self.user_id = user_id

    def _require(self) -> FileStore:
        if self._store is None:
            raise ToolFailure("provider_error", NO_STORE)
        return self._store

    async def get(self, file_id: str) -> StoredFile:
        try:
            return await self._require().get(
                file_id, thread_key=self.thread_key, user_id=self.user_id
            )
        except FileNotFound as exc:
            raise ToolFailure("not_found", f"{exc}; call list_files for the ids") from None
        except StoreUnavailable as exc:
            raise ToolFailure("provider_error", str(exc)) from None

    async def read_id(self, file_id: str) -> bytes:
        try:
            return await self._require().read(
                file_id, thread_key=self.thread_key, user_id=self.user_id
            )
        except FileNotFound as exc:
            raise ToolFailure("not_found", f"{exc}; call list_files for the ids") from None
        except FileBytesDeleted as exc:
            raise ToolFailure("not_found", str(exc)) from None
        except StoreUnavailable as exc:
            raise ToolFailure("provider_error", str(exc)) from None

    async def list(self) -> list[StoredFile]:
        try:
            return await self._require().list(thread_key=self.thread_key, user_id=self.user_id)
        except StoreUnavailable as exc:
            raise ToolFailure("provider_error", str(exc)) from None

    async def put(
        self, data: bytes, *, name: str, mime_type: str, kind: str, origin: FileOrigin = "tool"
    ) -> StoredFile:
        new = NewFile(
            thread_key=self.thread_key,
            owner_user_id=self.user_id,
            origin=origin,
            name=name,
            mime_type=mime_type,
            kind=kind,
        )
        try:
            return await self._require().put(new, data)
        except StoreUnavailable as exc:
            raise ToolFailure("provider_error", str(exc)) from None

    async def read(self, note: FileNote) -> bytes:
        if note.stored_id is not None:
            return await self.read_id(note.stored_id)
        return await self._from_telegram(note)

    async def _from_telegram(self, note: FileNote) -> bytes:
        name = note.file_name or note.kind
        if self._bot is None:
            raise ToolFailure("not_found", f"{name} was never stored and cannot be fetched")
        try:
            info = await self._bot.get_file(note.file_id)
            if info.file_path is None:
                raise ToolFailure("not_found", f"{name} is no longer available at Telegram")
            buffer = await self._bot.download_file(info.file_path)
        except TelegramAPIError as exc:
            raise ToolFailure("not_found", f"{name} could not be downloaded: {exc}") from exc
        if buffer is None:
            raise ToolFailure("not_found", f"{name} could not be downloaded")
        return buffer.read()

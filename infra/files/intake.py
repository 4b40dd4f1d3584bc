"""Taking a turn's files in, before its first model call.

1. **Receive**: every attachment of the turn's input that is not in the store yet is
   downloaded from Telegram once (getFile + download), made readable (HEIC/BMP/TIFF and
   oversized images re-encoded by :mod:`infra.files.images`; text decoded; PDF pages
   counted), stored content-addressed (:class:`~actors.thread.file_store.FileStore`) and
   recorded (``thread.file_received``).
2. **Transcribe**: a voice message or video note is transcribed with Whisper
   (``thread.file_transcribed`` and its per-second charge in one commit); the transcript is
   handed to ``on_transcript`` so the user sees it in the draft.
3. **Upload**: every image, PDF and text file the request will carry (the history the
   context window keeps) whose Files API upload is missing or expires within 10 minutes is
   uploaded from the store (``thread.file_uploaded``). A Gemini turn uploads nothing: it
   carries those files' bytes inline (:mod:`infra.files.inline`). A file whose bytes
   retention deleted, or that cannot be uploaded, is reported to the model as unreadable
   with the reason.

Each step commits its records before the next starts, so a crash repeats at most the step
in flight: ids are derived (see :mod:`actors.thread.file_events`), so the store and the log
see duplicates, not new files. A failure concerns its file only; the rest of the turn goes on.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from actors.thread import file_events
from actors.thread.content import Readable, classify_attachment
from actors.thread.context import FileView
from actors.thread.file_store import (
    FileBytesDeleted,
    FileNotFound,
    FileStore,
    NewFile,
    StoreUnavailable,
    sanitize_name,
)
from actors.thread.models import model_spec, provider_of
from actors.thread.state import FileNote, HistoryItem, RunningTurn, ThreadState
from actors.thread.system_prompt import system_prompt
from actors.thread.token_budget import context_budget, trim_history
from actors.thread.tokens import estimate_tokens
from events.catalog import BillingCommand, ThreadEvent
from events.envelope import utc_now
from events.messages import Attachment
from infra.files.claude_files import ClaudeFiles, UploadFailed
from infra.files.images import ImageError, prepare_image
from infra.files.inline import read_inline
from infra.files.transcription import TranscriptionFailed, WhisperTranscriber
from infra.threads.store_port import Commit

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT: Final = 60
PDF_PAGE_TOKENS: Final = 1_600
UPLOAD_MARGIN_SECONDS: Final = 600.0
STORED_KINDS: Final = {
    "image": "image",
    "pdf": "pdf",
    "text_file": "text",
    "voice": "voice",
    "audio": "audio",
    "video": "video",
    "document": "document",
}
DEFAULT_NAMES: Final = {
    "photo": "photo.jpg",
    "voice": "voice.ogg",
    "video_note": "video_note.mp4",
    "video": "video.mp4",
    "audio": "audio.mp3",
    "animation": "animation.mp4",
}


@dataclass(slots=True)
class _Taken:
    """What one receive produced: the record, and the bytes kept for transcription."""

    events: list[ThreadEvent] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Readied:
    data: bytes
    mime_type: str
    name: str
    converted_from: str | None
    tokens: int | None


def _input_notes(state: ThreadState, running: RunningTurn) -> list[tuple[int, FileNote]]:
    wanted = set(running.started.input_message_ids)
    found: list[tuple[int, FileNote]] = []
    for item in state.history:
        if item.role != "user" or not wanted.intersection(item.message_ids):
            continue
        message_id = next(m for m in item.message_ids if m in wanted)
        found.extend((message_id, note) for note in item.files)
    return found


def _classify(note: FileNote) -> Readable | None:
    verdict = classify_attachment(
        Attachment(
            kind=note.kind,
            file_id=note.file_id,
            file_unique_id=note.unique_id or note.file_id,
            mime_type=note.mime_type,
            file_name=note.file_name,
            file_size=note.file_size,
        )
    )
    return verdict if isinstance(verdict, Readable) else None


def _renamed(name: str, mime: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem}.{'png' if mime == 'image/png' else 'jpg'}"


def _pdf_tokens(data: bytes) -> int | None:
    """The PDF's token estimate (run in a thread: pypdf is imported there on the first PDF,
    not at start)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(io.BytesIO(data)).pages) * PDF_PAGE_TOKENS
    except (PdfReadError, ValueError, OSError):
        return None


class FileIntake:
    """Takes a turn's files in (see the module docstring)."""

    def __init__(
        self,
        store: FileStore,
        bot: Bot,
        uploads: ClaudeFiles,
        transcriber: WhisperTranscriber | None = None,
        *,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.bot = bot
        self.uploads = uploads
        self.transcriber = transcriber
        self.now = now
        self._stale: set[str] = set()

    def mark_stale(self, *provider_file_ids: str) -> None:
        """Uploads the API no longer has (it answered 404): the next turn uploads them again."""
        self._stale.update(provider_file_ids)

    async def prepare(
        self,
        state: ThreadState,
        running: RunningTurn,
        commit: Commit,
        *,
        on_transcript: Callable[[str, float | None], None] | None = None,
    ) -> tuple[ThreadState, FileView]:
        """Receive, transcribe and upload the turn's files; the state after their records
        and what the request builder needs to show them."""
        unavailable: dict[str, str] = {}
        taken = await self._receive(state, running)
        if taken.events:
            state = await commit(taken.events, [])
        state = await self._transcribe(state, running, commit, taken, unavailable, on_transcript)
        inputs = frozenset(running.started.input_message_ids)
        if provider_of(running.started.model) == "google":  # Gemini: the bytes, inline
            carried = self._carried(state, running)
            user_id = running.started.user_id
            inline = await read_inline(self.store, state.key, carried, user_id, unavailable)
            view = FileView(self.now(), unavailable, input_message_ids=inputs, inline=inline)
            return state, view
        state = await self._upload(state, running, commit, unavailable)
        return state, FileView(now=self.now(), unavailable=unavailable, input_message_ids=inputs)

    # ------------------------------------------------------------------ receive

    async def _receive(self, state: ThreadState, running: RunningTurn) -> _Taken:
        taken = _Taken()
        for message_id, note in _input_notes(state, running):
            readable = _classify(note)
            if note.stored_id is not None or readable is None:
                continue
            try:
                raw = await self._download(note)
                ready = await self._ready(note, readable, raw)
                stored = await self.store.put(
                    NewFile(
                        thread_key=state.key,
                        owner_user_id=running.started.user_id,
                        origin="user",
                        name=ready.name,
                        mime_type=ready.mime_type,
                        kind=STORED_KINDS[readable.kind],
                    ),
                    ready.data,
                )
            except (_NotTaken, StoreUnavailable) as exc:
                log.warning(
                    "file not taken in",
                    extra={"fields": {"file": note.file_name or note.kind, "error": str(exc)}},
                )
                continue
            taken.data[stored.file_id] = ready.data
            taken.events.append(
                file_events.file_received(
                    running,
                    note,
                    message_id,
                    stored,
                    converted_from=ready.converted_from,
                    tokens=ready.tokens,
                )
            )
        return taken

    async def _download(self, note: FileNote) -> bytes:
        try:
            info = await self.bot.get_file(note.file_id)
            if info.file_path is None:
                raise _NotTaken("Telegram has no file path for it")
            buffer = await self.bot.download_file(info.file_path, timeout=DOWNLOAD_TIMEOUT)
        except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as exc:
            raise _NotTaken(f"download failed: {type(exc).__name__}: {exc}") from None
        if buffer is None:
            raise _NotTaken("download failed")
        return buffer.read()

    async def _ready(self, note: FileNote, readable: Readable, raw: bytes) -> _Readied:
        name = sanitize_name(note.file_name, DEFAULT_NAMES.get(note.kind, f"{note.kind}.bin"))
        mime = note.mime_type or "application/octet-stream"
        if readable.kind == "image":
            try:
                image = await asyncio.to_thread(prepare_image, raw)
            except ImageError as exc:
                raise _NotTaken(str(exc)) from None
            if image.converted_from is not None:
                name = _renamed(name, image.mime_type)
            return _Readied(image.data, image.mime_type, name, image.converted_from, image.tokens)
        if readable.kind == "pdf":
            tokens = await asyncio.to_thread(_pdf_tokens, raw)
            return _Readied(raw, "application/pdf", name, None, tokens)
        if readable.kind == "text_file":
            text = raw.decode("utf-8", errors="replace")
            return _Readied(text.encode(), "text/plain", name, None, estimate_tokens(text) + 4)
        if note.kind == "photo":
            mime = "image/jpeg"
        return _Readied(raw, mime, name, None, None)

    # ------------------------------------------------------------------ transcribe

    async def _transcribe(
        self,
        state: ThreadState,
        running: RunningTurn,
        commit: Commit,
        taken: _Taken,
        unavailable: dict[str, str],
        on_transcript: Callable[[str, float | None], None] | None,
    ) -> ThreadState:
        for message_id, note in _input_notes(state, running):
            if note.stored_kind != "voice" or note.transcript is not None or not note.stored_id:
                continue
            if self.transcriber is None:
                unavailable[note.stored_id] = "voice messages cannot be transcribed here"
                continue
            try:
                data = taken.data.get(note.stored_id) or await self.store.read(
                    note.stored_id, thread_key=state.key, user_id=running.started.user_id
                )
                result = await self.transcriber.transcribe(
                    note.stored_name or "voice.ogg", data, fallback_seconds=note.duration_seconds
                )
            except (TranscriptionFailed, StoreUnavailable, FileBytesDeleted) as exc:
                unavailable[note.stored_id] = f"it could not be transcribed ({exc})"
                continue
            event = file_events.file_transcribed(
                running,
                note,
                message_id,
                model=result.model,
                text=result.text,
                language=result.language,
                duration_seconds=result.duration_seconds,
            )
            charge = file_events.transcription_charge(event)
            charges: list[BillingCommand] = [charge] if charge is not None else []
            state = await commit([event], charges)
            if on_transcript is not None:
                on_transcript(result.text, float(result.duration_seconds))
        return state

    # ------------------------------------------------------------------ upload

    def _carried(self, state: ThreadState, running: RunningTurn) -> list[FileNote]:
        """Notes of the history the request will keep that the model reads directly."""
        started = running.started
        max_tokens = started.max_output_tokens or model_spec(started.model).default_answer_tokens
        budget = context_budget(started.model, max_tokens, system_prompt(started.personality))
        kept: list[HistoryItem]
        kept, _ = trim_history(state.history, budget)
        return [n for item in kept for n in item.files if n.stored_kind in ("image", "pdf", "text")]

    async def _upload(
        self,
        state: ThreadState,
        running: RunningTurn,
        commit: Commit,
        unavailable: dict[str, str],
    ) -> ThreadState:
        events: list[ThreadEvent] = []
        done: set[str] = set()
        now = self.now()
        for note in self._carried(state, running):
            stored_id = note.stored_id
            if stored_id is None or stored_id in done:
                continue
            done.add(stored_id)
            if note.upload_live(now, UPLOAD_MARGIN_SECONDS) and (
                note.provider_file_id not in self._stale
            ):
                continue
            try:
                # the conversation's own history: read as the file's owner (in a group, the
                # member who sent it), never by an id a user typed
                owner = note.owner_user_id or running.started.user_id
                data = await self.store.read(stored_id, thread_key=state.key, user_id=owner)
                uploaded = await self.uploads.upload(
                    note.stored_name or "file", data, note.stored_mime_type or "text/plain"
                )
            except FileBytesDeleted as exc:
                unavailable[stored_id] = str(exc)
                continue
            except (FileNotFound, StoreUnavailable, UploadFailed) as exc:
                unavailable[stored_id] = f"it could not be attached right now ({exc})"
                continue
            self._stale.discard(note.provider_file_id or "")
            events.append(
                file_events.file_uploaded(
                    running,
                    stored_id,
                    uploaded.file_id,
                    uploaded_at=uploaded.uploaded_at,
                    expires_at=uploaded.expires_at,
                )
            )
        return await commit(events, []) if events else state


class _NotTaken(Exception):
    """One file could not be received (the message says why); the turn goes on."""

"""The thread's file records, built from the running turn (pure), and how they change state.

A turn's input files are taken in before its first model call: each is downloaded once into
the file store (``thread.file_received``), a voice message or video note is transcribed
(``thread.file_transcribed``, charged per second of audio), and every file the model reads
(images, PDFs, text) is uploaded to the Files API (``thread.file_uploaded``) and uploaded
again when its 24 h there have run out. The history's :class:`FileNote` records all of it,
so every later turn sends the same Files API reference instead of the bytes.

Files tool calls make and deliver are recorded here too: ``thread.file_generated`` for each
:class:`~actors.thread.tools.produced.ProducedFile` a call returned (once stored; its id is
the file store's, derived from the thread and the content), ``thread.file_delivered`` for
each file a call sent into the chat; they fold into ``ThreadState.generated``.

Ids are derived from the turn start and the file, so a turn resumed after a crash writes
the same records again (duplicates, not new files); an upload's id includes the provider's
file id, since a second upload is a second fact; a generated file's record is
``tool:{tool_use_id}:file:{file_id}``, a delivery's ``tool:{tool_use_id}:delivered:{file_id}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import msgspec

from actors.thread.file_store import StoredFile
from actors.thread.state import (
    MAX_GENERATED_FILES,
    FileNote,
    HistoryItem,
    RunningTurn,
    ThreadState,
)
from actors.thread.tool_charges import PRODUCER, tool_usage_charge
from actors.thread.tools.base import DeliveredFile
from actors.thread.tools.produced import stored_kind
from events.billing import UsageChargeRequested
from events.envelope import caused_by
from events.files import (
    FileDelivered,
    FileGenerated,
    FileReceived,
    FileTranscribed,
    FileUploaded,
)
from events.usage import ToolQuantities

ANTHROPIC_FILES: Final = "anthropic_files"
TRANSCRIPTION_SOURCE: Final = "transcription"
TRANSCRIPTION_TOOL: Final = "whisper"


def file_received(
    running: RunningTurn,
    note: FileNote,
    message_id: int,
    stored: StoredFile,
    *,
    converted_from: str | None,
    tokens: int | None,
) -> FileReceived:
    return FileReceived(
        **caused_by(
            running.started, producer=PRODUCER, label=f"file_received:{message_id}:{note.file_id}"
        ),
        file_id=stored.file_id,
        user_id=running.started.user_id,
        message_id=message_id,
        kind=note.kind,
        telegram_file_id=note.file_id,
        telegram_file_unique_id=note.unique_id or note.file_id,
        mime_type=note.mime_type,
        file_name=note.file_name,
        file_size=note.file_size,
        sha256=stored.sha256,
        stored_kind=stored.kind,
        stored_name=stored.name,
        stored_mime_type=stored.mime_type,
        stored_size=stored.size_bytes,
        converted_from=converted_from,
        tokens=tokens,
        turn_id=running.turn_id,
    )


def file_uploaded(
    running: RunningTurn,
    file_id: str,
    provider_file_id: str,
    *,
    uploaded_at: datetime,
    expires_at: datetime,
) -> FileUploaded:
    return FileUploaded(
        **caused_by(
            running.started,
            producer=PRODUCER,
            label=f"file_uploaded:{file_id}:{provider_file_id}",
            occurred_at=uploaded_at,
        ),
        file_id=file_id,
        provider=ANTHROPIC_FILES,
        provider_file_id=provider_file_id,
        uploaded_at=uploaded_at,
        expires_at=expires_at,
    )


def file_transcribed(
    running: RunningTurn,
    note: FileNote,
    message_id: int,
    *,
    model: str,
    text: str,
    language: str | None,
    duration_seconds: Decimal,
) -> FileTranscribed:
    env = caused_by(running.started, producer=PRODUCER, label=f"file_transcribed:{note.stored_id}")
    return FileTranscribed(
        **env,
        file_id=note.stored_id or "",
        user_id=running.started.user_id,
        message_id=message_id,
        turn_id=running.turn_id,
        model=model,
        text=text,
        language=language,
        duration_seconds=duration_seconds,
        billing_operation_id=f"usage:{env['id']}" if duration_seconds > 0 else None,
    )


def transcription_charge(event: FileTranscribed) -> UsageChargeRequested | None:
    """The ledger charge of a transcription: Whisper seconds, priced per minute by the table."""
    if event.billing_operation_id is None:
        return None
    return tool_usage_charge(
        event,
        operation_id=event.billing_operation_id,
        source=TRANSCRIPTION_SOURCE,
        tool_name=TRANSCRIPTION_TOOL,
        quantities=ToolQuantities(whisper_seconds=event.duration_seconds),
    )


def file_generated(
    running: RunningTurn,
    *,
    tool_use_id: str,
    tool_name: str,
    stored: StoredFile,
    preview: str | None,
    at: datetime,
) -> FileGenerated:
    env = caused_by(
        running.started,
        producer=PRODUCER,
        label=f"tool:{tool_use_id}:file:{stored.file_id}",
        occurred_at=at,
    )
    return FileGenerated(
        **env,
        file_id=stored.file_id,
        turn_id=running.turn_id,
        tool_use_id=tool_use_id,
        tool_name=tool_name,
        file_name=stored.name,
        mime_type=stored.mime_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_uri=f"sha256:{stored.sha256}",
        preview=preview,
    )


def file_delivered(
    running: RunningTurn, *, tool_use_id: str, delivered: DeliveredFile, at: datetime
) -> FileDelivered:
    env = caused_by(
        running.started,
        producer=PRODUCER,
        label=f"tool:{tool_use_id}:delivered:{delivered.file_id}",
        occurred_at=at,
    )
    return FileDelivered(
        **env,
        file_id=delivered.file_id,
        chat_id=running.chat_id,
        telegram_message_id=delivered.message_id,
        telegram_file_id=delivered.telegram_file_id,
        turn_id=running.turn_id,
        sent_as=delivered.sent_as,
    )


def with_files(output: str, events: Sequence[FileGenerated]) -> str:
    """The call's output with the generated files listed (ids the model passes on): a
    ``files`` key added to a JSON object output, else a line appended."""
    if not events:
        return output
    listed = [
        {
            "file_id": e.file_id,
            "name": e.file_name,
            "mime_type": e.mime_type,
            "size_bytes": e.size_bytes,
        }
        for e in events
    ]
    try:
        parsed: Any = json.loads(output)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parsed["files"] = listed
        parsed["files_note"] = "send them to the user with deliver_file"
        return json.dumps(parsed, ensure_ascii=False)
    return f"{output}\nFiles (send them with deliver_file): {json.dumps(listed)}"


# --------------------------------------------------------------------------- evolve


def _with_notes(
    state: ThreadState, change: Callable[[HistoryItem, FileNote], FileNote | None]
) -> ThreadState:
    """``state`` with every history note ``change`` answers a new value for replaced."""
    changed = False
    items: list[HistoryItem] = []
    for item in state.history:
        notes = [change(item, note) or note for note in item.files]
        if any(new is not old for new, old in zip(notes, item.files, strict=True)):
            changed = True
            item = msgspec.structs.replace(item, files=tuple(notes))
        items.append(item)
    return msgspec.structs.replace(state, history=tuple(items)) if changed else state


def evolve_file(
    state: ThreadState, event: FileReceived | FileUploaded | FileTranscribed
) -> ThreadState:
    if isinstance(event, FileReceived):

        def received(item: HistoryItem, note: FileNote) -> FileNote | None:
            if event.message_id not in item.message_ids or item.role != "user":
                return None
            if note.file_id != event.telegram_file_id and note.unique_id != (
                event.telegram_file_unique_id
            ):
                return None
            return msgspec.structs.replace(
                note,
                stored_id=event.file_id,
                owner_user_id=event.user_id,
                stored_kind=event.stored_kind,
                stored_name=event.stored_name,
                stored_mime_type=event.stored_mime_type,
                stored_size=event.stored_size,
                tokens=event.tokens,
            )

        return _with_notes(state, received)
    if isinstance(event, FileUploaded):

        def uploaded(item: HistoryItem, note: FileNote) -> FileNote | None:
            if note.stored_id != event.file_id:
                return None
            return msgspec.structs.replace(
                note, provider_file_id=event.provider_file_id, provider_expires_at=event.expires_at
            )

        return _with_notes(state, uploaded)

    def transcribed(item: HistoryItem, note: FileNote) -> FileNote | None:
        if note.stored_id != event.file_id:
            return None
        return msgspec.structs.replace(
            note, transcript=event.text, duration_seconds=float(event.duration_seconds)
        )

    return _with_notes(state, transcribed)


def generated_note(event: FileGenerated) -> FileNote:
    """A generated file as the thread's file list shows it (its id is the store's)."""
    return FileNote(
        kind="generated",
        file_id=event.file_id,
        mime_type=event.mime_type,
        file_name=event.file_name,
        file_size=event.size_bytes,
        stored_id=event.file_id,
        stored_kind=stored_kind(event.mime_type),
        stored_name=event.file_name,
        stored_mime_type=event.mime_type,
        stored_size=event.size_bytes,
    )


def with_generated(notes: tuple[FileNote, ...], event: FileGenerated) -> tuple[FileNote, ...]:
    kept = tuple(n for n in notes if n.file_id != event.file_id)
    return (*kept, generated_note(event))[-MAX_GENERATED_FILES:]

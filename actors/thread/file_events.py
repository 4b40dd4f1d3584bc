"""Events of the files tool calls produce and deliver (pure): ``thread.file_generated`` for
each :class:`~actors.thread.tools.produced.ProducedFile` a call returned (once stored),
``thread.file_delivered`` for each file it sent into the chat.

A generated file's id is the file store's (derived from the thread and the content: the same
bytes stored again are the same file); the events' ids are derived from the turn, the
``tool_use_id`` and that file id, so a retried report writes the same ids:
``tool:{tool_use_id}:file:{file_id}`` and ``tool:{tool_use_id}:delivered:{file_id}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from actors.thread.decide import PRODUCER
from actors.thread.file_store import StoredFile
from actors.thread.state import RunningTurn
from actors.thread.tools.base import DeliveredFile
from events.envelope import caused_by
from events.files import FileDelivered, FileGenerated


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

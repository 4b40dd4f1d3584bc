"""Events of the files tool calls produce and deliver (pure): ``thread.file_generated`` for
each :class:`~actors.thread.tools.new_files.NewFile` a call returned, ``thread.file_delivered``
for each file it sent into the chat.

Ids are derived from the turn and the ``tool_use_id``, so a retried report writes the same
ids: a generated file's id is ``file:{tool_use_id}:{n}`` under the turn (what the model is
told and passes to ``deliver_file``), its event ``tool:{tool_use_id}:file:{n}``, a
delivery's ``tool:{tool_use_id}:delivered:{file_id}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from actors.thread.decide import PRODUCER
from actors.thread.state import RunningTurn
from actors.thread.tools.base import DeliveredFile
from actors.thread.tools.new_files import NewFile
from events.envelope import caused_by
from events.files import FileDelivered, FileGenerated
from events.ids import derived_id


def generated_file_id(running: RunningTurn, tool_use_id: str, index: int) -> str:
    return derived_id(running.started.id, f"file:{tool_use_id}:{index}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_generated(
    running: RunningTurn,
    *,
    tool_use_id: str,
    tool_name: str,
    index: int,
    new_file: NewFile,
    storage_uri: str,
    at: datetime,
) -> FileGenerated:
    env = caused_by(
        running.started,
        producer=PRODUCER,
        label=f"tool:{tool_use_id}:file:{index}",
        occurred_at=at,
    )
    return FileGenerated(
        **env,
        file_id=generated_file_id(running, tool_use_id, index),
        turn_id=running.turn_id,
        tool_use_id=tool_use_id,
        tool_name=tool_name,
        file_name=new_file.name,
        mime_type=new_file.mime_type,
        size_bytes=len(new_file.data),
        sha256=sha256_of(new_file.data),
        storage_uri=storage_uri,
        preview=new_file.preview,
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

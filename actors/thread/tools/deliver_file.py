"""``deliver_file``: send a file of the thread (one a tool produced, or one the user sent)
into the chat, as a photo, as a document, or automatically (a photo when Telegram takes the
image as one: JPEG, PNG or WebP up to 10 MB with sensible sides; anything else a document).

Calls in one step run one after another in the order the model asked for them, so files
arrive in that order; each shows the matching chat action (``upload_photo`` /
``upload_document``) while it is sent. A send Telegram refuses is reported as a failure,
never as a success. The result names the delivered file's id and message. Free. Failed,
not re-run, after a crash (the file may already be in the chat).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from actors.texts import say
from actors.thread.content import MAX_DOWNLOAD_BYTES
from actors.thread.state import FileNote
from actors.thread.tools.base import DeliveredFile, Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.image_info import PHOTO_TYPES, fits_as_photo
from actors.thread.tools.produced import safe_name
from actors.thread.tools.providers import ChatAction, DeliverAs
from actors.thread.tools.thread_files import find_file, label, read_bytes

NAME: Final = "deliver_file"
SEND_MODES: Final = ("auto", "photo", "document")
MAX_SEND_BYTES: Final = 50 * 1024 * 1024
"""Telegram's upload limit for bots."""
MAX_CAPTION: Final = 1024

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "file_id": {"type": "string", "description": "A file id from list_files or a tool."},
        "send_as": {
            "type": "string",
            "enum": list(SEND_MODES),
            "description": "auto (default): a photo when it can be one, else a document.",
        },
        "caption": {"type": "string", "description": "Text under the file (1024 at most)."},
    },
    "required": ["file_id"],
}


def _mode(tool_input: Mapping[str, Any]) -> str:
    mode = tool_input.get("send_as", "auto")
    if mode not in SEND_MODES:
        raise ToolFailure("invalid_input", f"send_as must be one of {', '.join(SEND_MODES)}")
    return str(mode)


def _caption(tool_input: Mapping[str, Any]) -> str | None:
    caption = tool_input.get("caption")
    if caption is None:
        return None
    if not isinstance(caption, str):
        raise ToolFailure("invalid_input", "caption must be text")
    if len(caption) > MAX_CAPTION:
        raise ToolFailure("invalid_input", f"caption is over {MAX_CAPTION} characters")
    return caption.strip() or None


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    note = find_file(ctx, tool_input.get("file_id"))
    mode = _mode(tool_input)
    caption = _caption(tool_input)
    data = await read_bytes(ctx, note, max(MAX_SEND_BYTES, MAX_DOWNLOAD_BYTES))
    photo_ok = fits_as_photo(data)
    sent_as: DeliverAs = "photo" if mode != "document" and photo_ok else "document"
    name = safe_name(label(note))
    delivered = await ctx.providers.delivery.send(
        ctx.chat_id,
        ctx.message_thread_id or None,
        data=data,
        file_name=name,
        sent_as=sent_as,
        caption=caption,
    )
    report: dict[str, Any] = {
        "delivered": note.file_id,
        "name": name,
        "sent_as": delivered.sent_as,
        "message_id": delivered.message_id,
    }
    if mode == "photo" and sent_as == "document":
        report["note"] = "sent as a document: Telegram does not take this file as a photo"
    return ToolResult(
        output=json.dumps(report, ensure_ascii=False),
        delivered=(
            DeliveredFile(
                file_id=note.file_id,
                message_id=delivered.message_id,
                sent_as=delivered.sent_as,
                telegram_file_id=delivered.telegram_file_id,
            ),
        ),
    )


def chat_action(tool_input: Mapping[str, Any], files: Sequence[FileNote]) -> ChatAction:
    """``upload_photo`` when it will likely go as a photo, else ``upload_document``."""
    if tool_input.get("send_as") == "document":
        return "upload_document"
    wanted = tool_input.get("file_id")
    note = next((f for f in reversed(files) if f.file_id == wanted), None)
    is_image = note is not None and (note.kind == "photo" or note.mime_type in PHOTO_TYPES)
    return "upload_photo" if is_image else "upload_document"


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Send a file of this chat to the user: one a tool made (a chart, an image, a "
        "rendered formula, a CSV) or one the user sent. send_as auto (default) sends images "
        "as photos and everything else as documents; photo or document forces one. Several "
        "calls deliver in the order you make them. Free."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    on_interrupt="fail",
    timeout=120.0,
    status=lambda language, _input: say(language, "status.deliver_file"),
    serial=True,
    chat_action=chat_action,
)

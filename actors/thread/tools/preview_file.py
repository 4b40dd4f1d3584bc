"""``preview_file``: a quick look into a file of the thread.

Text files (and CSV) are previewed here, for free: the first ``max_chars`` characters, or
the first ``max_rows`` rows of a CSV. Images and PDFs are described by a mid-size model
(Sonnet), which is paid: that part is refused on a negative balance like any paid tool, and
its usage is the call's quantities. Other files get their metadata only. A text preview is
re-run after a crash; a vision preview is failed (it was paid either way).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any, Final

from actors.billing.policy import may_use_paid_tool
from actors.texts import say
from actors.thread.content import MAX_IMAGE_BYTES, MAX_PDF_BYTES, MAX_TEXT_FILE_BYTES
from actors.thread.models import VISION_MODEL
from actors.thread.state import FileNote
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.thread_files import (
    describe,
    find_file,
    image_block,
    kind_of,
    label,
    pdf_block,
    pdf_page_count,
    pdf_pages,
    read_bytes,
)
from events.usage import ModelUsage, ToolQuantities

NAME: Final = "preview_file"
VISION_PAGES: Final = 3
"""A PDF preview reads its first pages only."""
MAX_TOKENS: Final = 1_024
DEFAULT_CHARS: Final = 5_000
DEFAULT_ROWS: Final = 20

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "file_id": {"type": "string", "description": "A file id from list_files."},
        "question": {"type": "string", "description": "What to look for (images, PDFs)."},
        "max_chars": {"type": "integer", "minimum": 100, "maximum": 20_000},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 500},
    },
    "required": ["file_id"],
}


def _bounded(tool_input: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = tool_input.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ToolFailure("invalid_input", f"{name} must be a whole number from {low} to {high}")
    return value


async def _text_preview(
    tool_input: Mapping[str, Any], ctx: ToolContext, note: FileNote
) -> ToolResult:
    max_chars = _bounded(tool_input, "max_chars", DEFAULT_CHARS, 100, 20_000)
    data = await read_bytes(ctx, note, MAX_TEXT_FILE_BYTES)
    text = data.decode("utf-8", errors="replace")
    name = (note.file_name or "").lower()
    if name.endswith(".csv") or (note.mime_type or "") == "text/csv":
        max_rows = _bounded(tool_input, "max_rows", DEFAULT_ROWS, 1, 500)
        rows = list(csv.reader(io.StringIO(text)))
        shown = "\n".join(",".join(row) for row in rows[:max_rows])[:max_chars]
        head = f"{label(note)}: {len(rows)} rows; the first {min(max_rows, len(rows))}:"
        return ToolResult(output=f"{head}\n{shown}")
    more = f"\n[... {len(text) - max_chars} more characters]" if len(text) > max_chars else ""
    return ToolResult(output=f"{label(note)} ({len(text)} characters):\n{text[:max_chars]}{more}")


async def _vision_preview(
    tool_input: Mapping[str, Any], ctx: ToolContext, note: FileNote, kind: str
) -> ToolResult:
    verdict = may_use_paid_tool(ctx.balance) if ctx.balance is not None else None
    if verdict is not None and not verdict.allowed:
        raise ToolFailure("insufficient_balance", f"{verdict.reason}; the user can /pay")
    if kind == "image":
        block = image_block(await read_bytes(ctx, note, MAX_IMAGE_BYTES), note)
    else:
        data = await read_bytes(ctx, note, MAX_PDF_BYTES)
        data, _, _ = pdf_pages(data, f"1-{min(VISION_PAGES, pdf_page_count(data))}")
        block = pdf_block(data, label(note))
    question = tool_input.get("question")
    ask = (
        question.strip()
        if isinstance(question, str) and question.strip()
        else "Describe this file briefly: what it is, what it contains, anything notable."
    )
    reply = await ctx.claude.create(
        {
            "model": VISION_MODEL,
            "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": [block, {"type": "text", "text": ask}]}],
        }
    )
    return ToolResult(
        output=reply.text.strip() or "(no description)",
        quantities=ToolQuantities(model_calls=(ModelUsage(model=reply.model, usage=reply.usage),)),
    )


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    note = find_file(ctx, tool_input.get("file_id"))
    kind = kind_of(note)
    if kind == "text":
        return await _text_preview(tool_input, ctx, note)
    if kind in ("image", "pdf"):
        return await _vision_preview(tool_input, ctx, note, kind)
    meta = describe([note])[0]
    meta["note"] = "no preview for this kind of file; only its metadata is known"
    return ToolResult(output=json.dumps(meta, ensure_ascii=False))


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Take a quick look into a file the user sent: the beginning of a text or code file, "
        "the first rows of a CSV (free), or a short description of an image or the first "
        "pages of a PDF (paid, a small vision call). Takes a file id from list_files. For a "
        "close reading use analyze_image or analyze_pdf."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    on_interrupt="fail",
    timeout=90.0,
    status=lambda language, _input: say(language, "status.preview_file"),
)

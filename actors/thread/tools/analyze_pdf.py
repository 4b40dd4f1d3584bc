"""``analyze_pdf``: the strongest model reads selected pages of a PDF the user sent earlier.

``pages`` ("all", "4", "1-3, 7") selects pages before anything is sent: only those pages are
uploaded and billed (a page range cut with pypdf), so a question about one chapter of a long
report costs that chapter. Paid; failed, not re-run, after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from actors.texts import Language, say
from actors.thread.content import MAX_PDF_BYTES
from actors.thread.models import STRONGEST_MODEL
from actors.thread.tools.analyze_image import question_of
from actors.thread.tools.base import Tool, ToolContext, ToolResult
from actors.thread.tools.thread_files import (
    find_file,
    label,
    pdf_block,
    pdf_pages,
    read_bytes,
    require_kind,
)
from events.usage import ModelUsage, ToolQuantities

NAME: Final = "analyze_pdf"
MAX_TOKENS: Final = 8_192

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "file_id": {"type": "string", "description": "A PDF id from list_files."},
        "question": {"type": "string", "description": "What to find out from the pages."},
        "pages": {
            "type": "string",
            "description": 'Pages to read: "all" (default), "5" or "1-3, 7".',
        },
    },
    "required": ["file_id", "question"],
}


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    note = find_file(ctx, tool_input.get("file_id"))
    require_kind(note, "pdf")
    question = question_of(tool_input)
    data = await read_bytes(ctx, note, MAX_PDF_BYTES)
    selected, pages, total = pdf_pages(data, tool_input.get("pages"))
    shown = "all pages" if len(pages) == total else f"pages {_ranges(pages)} of {total}"
    reply = await ctx.claude.create(
        {
            "model": STRONGEST_MODEL,
            "max_tokens": MAX_TOKENS,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        pdf_block(selected, label(note)),
                        {"type": "text", "text": f"({shown} of {label(note)})\n\n{question}"},
                    ],
                }
            ],
        }
    )
    return ToolResult(
        output=reply.text.strip() or f"(nothing found in {shown})",
        quantities=ToolQuantities(model_calls=(ModelUsage(model=reply.model, usage=reply.usage),)),
    )


def _ranges(pages: list[int]) -> str:
    parts: list[str] = []
    start = prev = pages[0]
    for page in [*pages[1:], -1]:
        if page == prev + 1:
            prev = page
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = page
    return ", ".join(parts)


def _status(language: Language, tool_input: Mapping[str, Any]) -> str:
    pages = tool_input.get("pages")
    if isinstance(pages, str) and pages.strip() and pages.strip().lower() != "all":
        return say(language, "status.analyze_pdf_pages", pages=pages.strip()[:20])
    return say(language, "status.analyze_pdf")


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Read a PDF the user sent earlier in this conversation and answer a question about "
        "it. Choose the pages when you can (only those are read and paid for). Takes a file "
        "id from list_files. Paid (the strongest model reads the pages)."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    paid=True,
    on_interrupt="fail",
    timeout=180.0,
    status=_status,
)

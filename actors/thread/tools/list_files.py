"""``list_files``: the files the user sent in this conversation, with the ids the file tools
take. Free; it reads the thread's history only, so it is simply run again after a crash.
It keeps the file list out of the system prompt, which stays the same (and cached)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from actors.texts import say
from actors.thread.tools.base import Tool, ToolContext, ToolResult
from actors.thread.tools.thread_files import describe

NAME: Final = "list_files"


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    files = describe(ctx.files)
    if not files:
        return ToolResult(output=json.dumps({"files": [], "note": "no files in this chat yet"}))
    return ToolResult(output=json.dumps({"files": files}, ensure_ascii=False))


TOOL: Final = Tool(
    name=NAME,
    description=(
        "List the files the user sent in this conversation (images, PDFs, text files...): "
        "id, name, kind, type and size. Use the ids with preview_file, analyze_image and "
        "analyze_pdf. Free."
    ),
    input_schema={"type": "object", "properties": {}},
    run=run,
    on_interrupt="rerun_once",
    timeout=5.0,
    status=lambda language, _input: say(language, "status.list_files"),
)

"""``analyze_image``: the strongest model looks (again) at an image the user sent earlier.

Earlier images are not re-sent with every turn (only a placeholder names them), so this is
how the model sees one again, with a precise question. Paid: the vision call's usage is the
tool's quantities. Failed, not re-run, after a crash (the call was paid either way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from actors.texts import say
from actors.thread.content import MAX_IMAGE_BYTES
from actors.thread.models import STRONGEST_MODEL
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.thread_files import (
    find_file,
    image_block,
    label,
    read_bytes,
    require_kind,
)
from events.usage import ModelUsage, ToolQuantities

NAME: Final = "analyze_image"
MAX_TOKENS: Final = 4_096

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "file_id": {"type": "string", "description": "An image id from list_files."},
        "question": {"type": "string", "description": "What to find out about the image."},
    },
    "required": ["file_id", "question"],
}


def question_of(tool_input: Mapping[str, Any]) -> str:
    question = tool_input.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ToolFailure("invalid_input", "question must be a non-empty text")
    return question.strip()[:4000]


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    note = find_file(ctx, tool_input.get("file_id"))
    require_kind(note, "image")
    question = question_of(tool_input)
    data = await read_bytes(ctx, note, MAX_IMAGE_BYTES)
    reply = await ctx.claude.create(
        {
            "model": STRONGEST_MODEL,
            "max_tokens": MAX_TOKENS,
            "messages": [
                {
                    "role": "user",
                    "content": [image_block(data, note), {"type": "text", "text": question}],
                }
            ],
        }
    )
    return ToolResult(
        output=reply.text.strip() or f"(no description of {label(note)})",
        quantities=ToolQuantities(model_calls=(ModelUsage(model=reply.model, usage=reply.usage),)),
    )


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Look closely at an image the user sent earlier in this conversation and answer a "
        "question about it (details, text in it, numbers, comparisons). Takes a file id from "
        "list_files. Paid (a vision call on the strongest model)."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    paid=True,
    on_interrupt="fail",
    timeout=120.0,
    status=lambda language, _input: say(language, "status.analyze_image"),
)

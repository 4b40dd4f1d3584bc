"""``render_latex``: typeset LaTeX (a formula or a whole document) into a PNG.

The renderer runs TeX with no shell escape, no file access outside its job and a time limit
(``infra/tools/latex.py``). The PNG becomes a generated file of the thread (send it with
``deliver_file``) and is shown to the model. Free. Where the server has no TeX engine, the
call fails with ``unavailable`` and a message telling the model to write the formula as
text: the turn goes on. Safe to run again after a crash (it only makes a picture).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Final

from actors.texts import say
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.image_info import image_dimensions
from actors.thread.tools.produced import ProducedFile

NAME: Final = "render_latex"
MAX_SOURCE_CHARS: Final = 20_000
DEFAULT_DPI: Final = 200
MIN_DPI: Final = 100
MAX_DPI: Final = 600
SHOWN_MAX_BYTES: Final = 3_500_000

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "latex": {
            "type": "string",
            "description": "A formula (no delimiters needed), math in $...$ or \\[...\\] with "
            "text, or a whole document with \\documentclass.",
        },
        "dpi": {"type": "integer", "minimum": MIN_DPI, "maximum": MAX_DPI},
    },
    "required": ["latex"],
}


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    source = tool_input.get("latex")
    if not isinstance(source, str) or not source.strip():
        raise ToolFailure("invalid_input", "latex must be non-empty LaTeX source")
    if len(source) > MAX_SOURCE_CHARS:
        raise ToolFailure("invalid_input", f"latex is over {MAX_SOURCE_CHARS} characters")
    dpi = tool_input.get("dpi", DEFAULT_DPI)
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
        raise ToolFailure("invalid_input", f"dpi must be a whole number, {MIN_DPI} to {MAX_DPI}")
    png = await ctx.providers.latex.render(source, dpi=dpi)
    width, height = image_dimensions(png)
    blocks: tuple[dict[str, Any], ...] = ()
    if len(png) <= SHOWN_MAX_BYTES:
        data = base64.b64encode(png).decode()
        blocks = ({"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                               "data": data}},)  # fmt: skip
    name = f"latex_{ctx.tool_use_id[-8:]}.png"
    return ToolResult(
        output=json.dumps({"rendered": True, "width": width, "height": height, "dpi": dpi}),
        blocks=blocks,
        new_files=(ProducedFile(name, "image/png", png, f"{width}x{height} rendered LaTeX"),),
    )


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Typeset LaTeX into a PNG image: a formula, math with text, or a whole document "
        "(first page). The picture is shown to you and saved as a file: send it with "
        "deliver_file. Free."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    on_interrupt="rerun_once",
    timeout=60.0,
    status=lambda language, _input: say(language, "status.render_latex"),
    chat_action=lambda _input, _files: "upload_photo",
)

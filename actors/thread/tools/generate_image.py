"""``generate_image``: draw an image with Gemini, or edit one (reference images from the
thread), at an aspect ratio and a size from 512 px to 4K.

The image becomes a generated file of the thread (the model gets its id for
``deliver_file``) and, when small enough, is shown to the model too, so it can check the
result. Paid per image by size class (512px, 1k, 2k, 4k; the price table's rows). A failed
generation (refused, filtered, no image, Gemini down after its retries) is charged
nothing. Failed, not re-run, after a crash: the image may have been paid for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Final

from actors.texts import Language, say
from actors.thread.content import IMAGE_TYPES, MAX_IMAGE_BYTES
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.image_info import image_type
from actors.thread.tools.produced import ProducedFile
from actors.thread.tools.providers import ReferenceImage
from actors.thread.tools.thread_files import find_file, read_bytes, require_kind
from events.usage import ImageGeneration, ImageSizeClass, ToolQuantities

NAME: Final = "generate_image"
ASPECT_RATIOS: Final = (
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
)  # fmt: skip
SIZE_CLASSES: Final[dict[str, ImageSizeClass]] = {
    "512": "512px",
    "1K": "1k",
    "2K": "2k",
    "4K": "4k",
}
DEFAULT_SIZE: Final = "1K"
MAX_REFERENCES: Final = 14
MAX_PROMPT_CHARS: Final = 8_000
SHOWN_MAX_BYTES: Final = 3_500_000
"""An image up to this size is also shown to the model (base64 stays under the API's 5 MB)."""
EXTENSIONS: Final = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "description": "What to draw, or how to change the image."},
        "aspect_ratio": {"type": "string", "enum": list(ASPECT_RATIOS)},
        "size": {
            "type": "string",
            "enum": list(SIZE_CLASSES),
            "description": "512 px, 1K (default), 2K or 4K on the longer side class.",
        },
        "reference_file_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Images of this chat (ids from list_files) to edit or draw from.",
        },
    },
    "required": ["prompt"],
}


def _choice(
    tool_input: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str
) -> str:
    value = tool_input.get(name, default)
    if not isinstance(value, str) or value not in allowed:
        raise ToolFailure("invalid_input", f"{name} must be one of {', '.join(allowed)}")
    return value


async def _references(tool_input: Mapping[str, Any], ctx: ToolContext) -> list[ReferenceImage]:
    raw = tool_input.get("reference_file_ids") or []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ToolFailure("invalid_input", "reference_file_ids must be a list of file ids")
    if len(raw) > MAX_REFERENCES:
        raise ToolFailure("invalid_input", f"at most {MAX_REFERENCES} reference images")
    references = []
    for file_id in raw:
        note = find_file(ctx, file_id)
        require_kind(note, "image")
        data = await read_bytes(ctx, note, MAX_IMAGE_BYTES * 4)
        mime = image_type(data) or (note.mime_type or "image/png")
        references.append(ReferenceImage(data=data, mime_type=mime))
    return references


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    prompt = tool_input.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ToolFailure("invalid_input", "prompt must be a non-empty text")
    ratio = _choice(tool_input, "aspect_ratio", ASPECT_RATIOS, "1:1")
    size = _choice(tool_input, "size", tuple(SIZE_CLASSES), DEFAULT_SIZE)
    references = await _references(tool_input, ctx)
    image = await ctx.providers.images.generate(
        prompt.strip()[:MAX_PROMPT_CHARS], aspect_ratio=ratio, size=size, references=references
    )
    mime = image_type(image.data) or image.mime_type
    name = f"image_{ctx.tool_use_id[-8:]}.{EXTENSIONS.get(mime, 'png')}"
    blocks: tuple[dict[str, Any], ...] = ()
    if len(image.data) <= SHOWN_MAX_BYTES and mime in IMAGE_TYPES:
        blocks = (
            {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": mime,
                    "data": base64.b64encode(image.data).decode(),
                },
            },
        )
    report: dict[str, Any] = {
        "mode": "edit" if references else "new",
        "width": image.width,
        "height": image.height,
        "size": size,
        "aspect_ratio": ratio,
        "shown_to_you": bool(blocks),
    }
    if image.text:
        report["model_text"] = image.text[:1000]
    return ToolResult(
        output=json.dumps(report, ensure_ascii=False),
        quantities=ToolQuantities(
            images=(ImageGeneration(model=image.model, size_class=SIZE_CLASSES[size]),)
        ),
        blocks=blocks,
        new_files=(ProducedFile(name, mime, image.data, f"{image.width}x{image.height} image"),),
    )


def _status(language: Language, tool_input: Mapping[str, Any]) -> str:
    prompt = str(tool_input.get("prompt", "")).strip()
    verb = "status.edit_image" if tool_input.get("reference_file_ids") else "status.generate_image"
    if prompt:
        return say(language, f"{verb}_prompt", prompt=prompt[:60])
    return say(language, verb)


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Draw an image with Gemini from a prompt, or edit images of this chat (pass their "
        "ids as reference_file_ids). Aspect ratios 1:1 (default) to 21:9; size 512, 1K "
        "(default), 2K or 4K. The image is shown to you and saved as a file: send it with "
        "deliver_file. Paid per image by size (estimate_cost tells the price)."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    paid=True,
    on_interrupt="fail",
    timeout=420.0,  # three attempts of up to two minutes, with waits between them
    status=_status,
    chat_action=lambda _input, _files: "upload_photo",
)

"""``estimate_cost``: what planned work would cost, priced by the current price table.

The model may consult it before paid work (a long generation on a bigger model, several
searches, an image, minutes of audio or sandbox time) and tell the user. Free and pure: it
reads the price table and the balance in its context, nothing else, so a call interrupted
by a crash is simply run again (``rerun_once``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from actors.billing.policy import format_usd
from actors.billing.pricing import PricingError, price, table_at
from actors.texts import say
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from events.usage import ImageGeneration, ImageSizeClass, ToolQuantities, Usage

NAME: Final = "estimate_cost"
IMAGE_SIZES: Final[tuple[ImageSizeClass, ...]] = ("512px", "1k", "2k", "4k")
MAX_COUNT: Final = 10_000_000

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "model": {
            "type": "string",
            "description": "Model id (Claude or Gemini); default: this conversation's model.",
        },
        "input_tokens": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
        "output_tokens": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
        "web_searches": {"type": "integer", "minimum": 0, "maximum": 10_000},
        "audio_minutes": {"type": "number", "minimum": 0, "maximum": 10_000},
        "sandbox_minutes": {"type": "number", "minimum": 0, "maximum": 100_000},
        "images": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "size": {"type": "string", "enum": list(IMAGE_SIZES)},
                    "count": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                "required": ["size"],
            },
        },
    },
}


def _count(tool_input: Mapping[str, Any], name: str) -> int:
    value = tool_input.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ToolFailure("invalid_input", f"{name} must be a whole number from 0 to {MAX_COUNT}")
    return value


def _minutes(tool_input: Mapping[str, Any], name: str) -> Decimal:
    value = tool_input.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1e5:
        raise ToolFailure("invalid_input", f"{name} must be a number of minutes from 0 to 100000")
    return Decimal(str(value)) * 60


def _images(tool_input: Mapping[str, Any]) -> tuple[ImageGeneration, ...]:
    raw = tool_input.get("images") or []
    if not isinstance(raw, list):
        raise ToolFailure("invalid_input", "images must be a list of {size, count}")
    found: list[ImageGeneration] = []
    for item in raw:
        size = item.get("size") if isinstance(item, dict) else None
        count = item.get("count", 1) if isinstance(item, dict) else None
        if size not in IMAGE_SIZES or not isinstance(count, int) or not 1 <= count <= 100:
            raise ToolFailure(
                "invalid_input", f"each image needs a size of {', '.join(IMAGE_SIZES)}"
            )
        found.append(ImageGeneration(model="generate_image", size_class=size, count=count))
    return tuple(found)


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    model = tool_input.get("model") or ctx.model
    if not isinstance(model, str):
        raise ToolFailure("invalid_input", "model must be a model id")
    usage = Usage(
        input_tokens=_count(tool_input, "input_tokens"),
        output_tokens=_count(tool_input, "output_tokens"),
    )
    quantities = ToolQuantities(
        web_searches=_count(tool_input, "web_searches"),
        whisper_seconds=_minutes(tool_input, "audio_minutes"),
        sandbox_seconds=_minutes(tool_input, "sandbox_minutes"),
        images=_images(tool_input),
    )
    table = table_at(ctx.now)
    if model not in table.models:
        known = ", ".join(table.models)
        raise ToolFailure("invalid_input", f"unknown model {model!r}; priced models: {known}")
    try:
        priced = price(at=ctx.now, model=model, usage=usage, tool_quantities=quantities)
    except PricingError as exc:
        raise ToolFailure("invalid_input", str(exc)) from None
    answer: dict[str, Any] = {
        "estimated_cost_usd": format_usd(priced.total),
        "price_table": priced.version,
        "lines": [
            {"item": line.item, "quantity": str(line.quantity), "usd": format_usd(line.amount)}
            for line in priced.lines
        ],
    }
    if ctx.balance is not None:
        answer["user_balance_usd"] = format_usd(ctx.balance)
        answer["affordable"] = ctx.balance >= priced.total
    return ToolResult(output=json.dumps(answer, ensure_ascii=False))


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Estimate what planned work would cost the user in USD before doing it: tokens of a "
        "model, web searches, generated images, minutes of audio transcription or of "
        "code sandbox time. Returns the estimate, its price lines and the user's balance. "
        "Free; use it before expensive work and tell the user when it is costly."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    on_interrupt="rerun_once",
    timeout=5.0,
    status=lambda language, _input: say(language, "status.estimate_cost"),
)

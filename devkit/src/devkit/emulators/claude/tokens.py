"""Token estimates of the Claude emulator: about four characters a token, images and
documents at a flat rate."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

IMAGE_TOKENS = 1600  # flat estimate per image or base64/file document


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        kind = value.get("type")
        if kind in ("image", "document") and isinstance(value.get("source"), dict):
            source = value["source"]
            if source.get("type") in ("base64", "file", "url"):
                yield "\0" * (IMAGE_TOKENS * 4)
                return
        for key, item in value.items():
            if key in ("type", "role", "cache_control", "id", "tool_use_id", "signature"):
                continue
            yield from _strings(item)


def block_chars(value: Any) -> int:
    """The characters the token estimate counts in a value (a block, a message...)."""
    return sum(len(s) for s in _strings(value))


def estimate_tokens(value: Any) -> int:
    """About one token per four characters of text, images and documents at a flat rate."""
    chars = sum(len(s) for s in _strings(value))
    return max(1, math.ceil(chars / 4))


def request_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of a Messages request (tools, system, messages)."""
    return estimate_tokens(
        [body.get("tools") or [], body.get("system") or "", body.get("messages") or []]
    )

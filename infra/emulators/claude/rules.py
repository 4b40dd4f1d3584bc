"""Deterministic rules of the Claude emulator: token estimates, prompt caching, default replies.

Default reply when no script matches:
- the last user message asks ``use tool NAME {json}`` -> a tool_use block (stop_reason tool_use);
- the last user message carries tool results -> text "Tool result: ...";
- otherwise -> echo of the last user text;
- with ``thinking`` enabled in the request, a thinking block comes first.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .scripts import Block, Reply, RequestKind, TextBlock, ThinkingBlock, ToolUseBlock

IMAGE_TOKENS = 1600  # flat estimate per image or base64/file document
_USE_TOOL = re.compile(r"use tool\s+([A-Za-z0-9_-]+)\s*(\{.*\})?", re.DOTALL | re.IGNORECASE)


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


def estimate_tokens(value: Any) -> int:
    """About one token per four characters of text, images and documents at a flat rate."""
    chars = sum(len(s) for s in _strings(value))
    return max(1, math.ceil(chars / 4))


def request_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of a Messages request (tools, system, messages)."""
    return estimate_tokens(
        [body.get("tools") or [], body.get("system") or "", body.get("messages") or []]
    )


def last_user_message(body: dict[str, Any]) -> dict[str, Any] | None:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return message
    return None


def message_text(message: dict[str, Any] | None) -> str:
    if message is None:
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts = [
        b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"
    ]
    return "\n".join(p for p in parts if p)


def last_user_text(body: dict[str, Any]) -> str:
    return message_text(last_user_message(body))


def turn_text(body: dict[str, Any]) -> str:
    """The text of the last user message that has text: the input of the running turn, also
    while the turn's later steps answer tool results."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            text = message_text(message)
            if text:
                return text
    return ""


def request_kind(body: dict[str, Any]) -> RequestKind:
    """user / tool_result / continuation (see scripts.RequestKind)."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    if not isinstance(last, dict):
        return "user"
    if last.get("role") == "assistant":
        return "continuation"
    return "tool_result" if tool_results(last) else "user"


def pending_server_tool(body: dict[str, Any]) -> str:
    """The id of the unanswered server_tool_use ending the request's last assistant message
    (a paused turn being continued), or ""."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    if not isinstance(last, dict) or last.get("role") != "assistant":
        return ""
    content = last.get("content")
    if not isinstance(content, list):
        return ""
    answered = {b.get("tool_use_id") for b in content if isinstance(b, dict)}
    for block in reversed(content):
        if isinstance(block, dict) and block.get("type") == "server_tool_use":
            block_id = str(block.get("id", ""))
            return "" if block_id in answered else block_id
    return ""


def tool_results(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    if message is None or not isinstance(message.get("content"), list):
        return []
    return [b for b in message["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]


def default_reply(body: dict[str, Any]) -> Reply:
    """The deterministic answer used when no script matches (see module docstring)."""
    message = last_user_message(body)
    text = message_text(message)
    blocks: list[Block] = []
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        blocks.append(ThinkingBlock(thinking=f"The user wrote: {text}"))
    results = tool_results(message)
    match = _USE_TOOL.search(text)
    if match:
        raw = match.group(2)
        try:
            tool_input = json.loads(raw) if raw else {}
        except ValueError:
            tool_input = {"raw": raw}
        blocks.append(ToolUseBlock(name=match.group(1), input=tool_input))
    elif results and not text:
        summary = "; ".join(_result_text(r) for r in results)
        blocks.append(TextBlock(text=f"Tool result: {summary}"))
    else:
        blocks.append(TextBlock(text=text or "(empty message)"))
    return Reply(content=blocks)


def _result_text(result: dict[str, Any]) -> str:
    content = result.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def signature_for(thinking: str) -> str:
    """The signature the emulator gives a thinking text (so it can tell an altered one)."""
    return "EmuSig" + hashlib.sha256(thinking.encode()).hexdigest()[:40]


def redacted_data_for(seed: str) -> str:
    """Opaque redacted_thinking data that carries its own checksum."""
    return f"EmuRedacted_{seed}_" + hashlib.sha256(seed.encode()).hexdigest()[:16]


def redacted_data_valid(data: str) -> bool:
    if not data.startswith("EmuRedacted_"):
        return False
    seed, _, check = data[len("EmuRedacted_") :].rpartition("_")
    return bool(seed) and check == hashlib.sha256(seed.encode()).hexdigest()[:16]


@dataclass(slots=True)
class CacheOutcome:
    creation_5m: int = 0
    creation_1h: int = 0
    read: int = 0

    @property
    def creation(self) -> int:
        return self.creation_5m + self.creation_1h


@dataclass
class PromptCache:
    """Prompt caching: the prefix up to the last cache_control breakpoint is written once,
    then read by requests with the same prefix until its TTL (5 min or 1 h) lapses."""

    minimum_tokens: int = 1024
    entries: dict[str, float] = field(default_factory=dict)  # prefix hash -> expiry time

    def apply(self, body: dict[str, Any], now: float) -> CacheOutcome:
        prefix, ttl = _cached_prefix(body)
        if not prefix:
            return CacheOutcome()
        tokens = estimate_tokens(prefix)
        if tokens < self.minimum_tokens:
            return CacheOutcome()
        key = hashlib.sha256(
            json.dumps([body.get("model"), prefix], sort_keys=True, default=str).encode()
        ).hexdigest()
        seconds = 3600.0 if ttl == "1h" else 300.0
        expiry = self.entries.get(key)
        self.entries[key] = now + seconds  # a hit refreshes the TTL
        if expiry is not None and expiry > now:
            return CacheOutcome(read=tokens)
        if ttl == "1h":
            return CacheOutcome(creation_1h=tokens)
        return CacheOutcome(creation_5m=tokens)


def _cached_prefix(body: dict[str, Any]) -> tuple[list[Any], str | None]:
    items: list[Any] = []
    last = -1
    ttl: str | None = None

    def add(item: Any) -> None:
        nonlocal last, ttl
        items.append(item)
        if isinstance(item, dict) and isinstance(item.get("cache_control"), dict):
            last = len(items)
            ttl = item["cache_control"].get("ttl")

    for tool in body.get("tools") or []:
        add(tool)
    system = body.get("system")
    if isinstance(system, list):
        for block in system:
            add(block)
    elif system:
        add(system)
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for block in content:
                add(block)
        else:
            add(content)
    return items[: max(last, 0)], ttl

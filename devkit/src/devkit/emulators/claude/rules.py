"""Deterministic rules of the Claude emulator: token estimates, default replies, signatures.

The prompt cache lives in :mod:`.cache` (``PromptCache`` and ``CacheOutcome`` are re-exported
here).

Default reply when no script matches:
- the last user message asks ``use tool NAME {json}`` -> a tool_use block (stop_reason tool_use);
- the last user message carries tool results -> text "Tool result: ...";
- otherwise -> echo of the last user text;
- with ``thinking`` enabled in the request, a thinking block comes first.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .cache import CacheOutcome as CacheOutcome
from .cache import PromptCache as PromptCache
from .scripts import Block, Reply, RequestKind, TextBlock, ThinkingBlock, ToolUseBlock
from .tokens import IMAGE_TOKENS as IMAGE_TOKENS
from .tokens import block_chars as block_chars
from .tokens import estimate_tokens as estimate_tokens
from .tokens import request_tokens as request_tokens

_USE_TOOL = re.compile(r"use tool\s+([A-Za-z0-9_-]+)\s*(\{.*\})?", re.DOTALL | re.IGNORECASE)


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
    """The text of the last user message that has text and no tool results: the input of
    the running turn, also while the turn's later steps answer tool results."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            if tool_results(message):
                continue
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

"""Turn a Reply into the Messages API's Message JSON, and that into its SSE event sequence."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from .rules import CacheOutcome, estimate_tokens, redacted_data_for, signature_for
from .scripts import (
    Block,
    RedactedThinkingBlock,
    Reply,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    WebFetchToolResultBlock,
    WebSearchToolResultBlock,
)

SERVER_RESULTS = ("web_search_tool_result", "web_fetch_tool_result")

DEFAULT_CHUNK = 12  # characters per text/thinking delta


def compose_message(
    reply: Reply,
    body: dict[str, Any],
    *,
    message_id: str,
    new_id: Callable[[str], str],
    input_estimate: int,
    cache: CacheOutcome,
    pending_server_tool: str = "",
) -> dict[str, Any]:
    """The Message object for this reply: ids filled in, usage estimated unless scripted,
    text cut at max_tokens (stop_reason max_tokens) like the real API. A server tool result
    without an id answers the server_tool_use before it, else ``pending_server_tool`` (the
    unanswered one of a paused turn being continued). A server tool used beyond the
    ``max_uses`` its tool definition allows is answered ``max_uses_exceeded`` and not
    counted in usage."""
    max_tokens = int(body.get("max_tokens") or 4096)
    content: list[dict[str, Any]] = []
    budget = max_tokens
    truncated = False
    last_server_tool = pending_server_tool
    server_uses = {"web_search": 0, "web_fetch": 0}
    limits = _max_uses(body)
    over: set[str] = set()  # server_tool_use ids beyond their tool's max_uses
    for block in reply.content:
        if budget <= 0:
            truncated = True
            break
        item, cost, cut = _block_json(block, budget, new_id)
        if item["type"] == "server_tool_use":
            last_server_tool = item["id"]
            name = item["name"]
            if name in server_uses:
                if server_uses[name] >= limits.get(name, 10**9):
                    over.add(item["id"])
                else:
                    server_uses[name] += 1
        if item["type"] in SERVER_RESULTS:
            if not item["tool_use_id"]:
                item["tool_use_id"] = last_server_tool or new_id("srvtoolu_")
            if item["tool_use_id"] in over:
                kind = item["type"].removesuffix("_result") + "_result_error"
                item["content"] = {"type": kind, "error_code": "max_uses_exceeded"}
        content.append(item)
        budget -= cost
        truncated = truncated or cut
    if reply.stop_reason is not None:
        stop_reason = reply.stop_reason
    elif truncated:
        stop_reason = "max_tokens"
    elif any(b["type"] == "tool_use" for b in content):
        stop_reason = "tool_use"
    else:
        stop_reason = "end_turn"
    usage = _usage(reply, cache, input_estimate, output_estimate=max(1, max_tokens - budget))
    if any(server_uses.values()):
        usage["server_tool_use"] = {
            "web_search_requests": server_uses["web_search"],
            "web_fetch_requests": server_uses["web_fetch"],
        }
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": reply.reported_model or str(body.get("model", "")),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _max_uses(body: dict[str, Any]) -> dict[str, int]:
    """max_uses of the server tools the request offers, by tool name."""
    limits: dict[str, int] = {}
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and isinstance(tool.get("max_uses"), int):
            limits[str(tool.get("name", ""))] = tool["max_uses"]
    return limits


def _usage(
    reply: Reply, cache: CacheOutcome, input_estimate: int, *, output_estimate: int
) -> dict[str, Any]:
    """Usage of the reply: scripted figures win; otherwise the estimate and the cache's
    outcome (input is what the cache neither read nor wrote)."""
    scripted = reply.usage
    creation = (
        scripted.cache_creation_input_tokens
        if scripted.cache_creation_input_tokens is not None
        else cache.creation
    )
    read = (
        scripted.cache_read_input_tokens
        if scripted.cache_read_input_tokens is not None
        else cache.read
    )
    if scripted.cache_creation_input_tokens is not None:
        split = {"ephemeral_5m_input_tokens": creation, "ephemeral_1h_input_tokens": 0}
    else:
        split = {
            "ephemeral_5m_input_tokens": cache.creation_5m,
            "ephemeral_1h_input_tokens": cache.creation_1h,
        }
    return {
        "input_tokens": (
            scripted.input_tokens
            if scripted.input_tokens is not None
            else max(0, input_estimate - creation - read)
        ),
        "cache_creation_input_tokens": creation,
        "cache_read_input_tokens": read,
        "cache_creation": split,
        "output_tokens": (
            scripted.output_tokens if scripted.output_tokens is not None else output_estimate
        ),
        "service_tier": "standard",
    }


def _block_json(
    block: Block, budget: int, new_id: Callable[[str], str]
) -> tuple[dict[str, Any], int, bool]:
    """(block JSON, output tokens it costs, whether it was cut at max_tokens)."""
    if isinstance(block, TextBlock):
        text, cut = _cut(block.text, budget)
        item: dict[str, Any] = {"type": "text", "text": text}
        if block.citations:
            item["citations"] = [msgspec.to_builtins(c) for c in block.citations]
        return item, estimate_tokens(text), cut
    if isinstance(block, ThinkingBlock):
        thinking, cut = _cut(block.thinking, budget)
        signature = block.signature or signature_for(thinking)
        item = {"type": "thinking", "thinking": thinking, "signature": signature}
        return item, estimate_tokens(thinking), cut
    if isinstance(block, RedactedThinkingBlock):
        data = block.data or redacted_data_for(new_id("redacted_"))
        return {"type": "redacted_thinking", "data": data}, 100, False
    if isinstance(block, ToolUseBlock):
        item = {
            "type": "tool_use",
            "id": block.id or new_id("toolu_"),
            "name": block.name,
            "input": block.input,
        }
        return item, estimate_tokens(json.dumps(block.input)), False
    if isinstance(block, ServerToolUseBlock):
        item = {
            "type": "server_tool_use",
            "id": block.id or new_id("srvtoolu_"),
            "name": block.name,
            "input": block.input,
        }
        return item, estimate_tokens(json.dumps(block.input)), False
    if isinstance(block, WebFetchToolResultBlock):
        return _web_fetch_json(block), 0, False
    assert isinstance(block, WebSearchToolResultBlock)
    result_content: Any
    if block.error_code is not None:
        result_content = {"type": "web_search_tool_result_error", "error_code": block.error_code}
    else:
        result_content = [
            {
                "type": "web_search_result",
                "url": r.url,
                "title": r.title,
                "encrypted_content": r.encrypted_content,
                "page_age": r.page_age,
            }
            for r in block.results
        ]
    item = {
        "type": "web_search_tool_result",
        "tool_use_id": block.tool_use_id,
        "content": result_content,
    }
    return item, 0, False


def _web_fetch_json(block: WebFetchToolResultBlock) -> dict[str, Any]:
    content: dict[str, Any]
    if block.error_code is not None:
        content = {"type": "web_fetch_tool_result_error", "error_code": block.error_code}
    else:
        document: dict[str, Any] = {
            "type": "document",
            "source": {"type": "text", "media_type": block.media_type, "data": block.text},
            "title": block.title,
        }
        if block.citations:
            document["citations"] = {"enabled": True}
        content = {
            "type": "web_fetch_result",
            "url": block.url,
            "content": document,
            "retrieved_at": block.retrieved_at,
        }
    return {"type": "web_fetch_tool_result", "tool_use_id": block.tool_use_id, "content": content}


def _cut(text: str, budget: int) -> tuple[str, bool]:
    limit = budget * 4
    if len(text) <= limit:
        return text, False
    return text[:limit], True


def _chunks(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def stream_events(
    message: dict[str, Any], chunk_size: int = 0
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events the API sends for `message`, in order (ping included)."""
    size = chunk_size or DEFAULT_CHUNK
    usage = message["usage"]
    start_usage = {k: v for k, v in usage.items() if k != "server_tool_use"}
    start_usage["output_tokens"] = 1
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {**message, "content": [], "stop_reason": None, "usage": start_usage},
        },
    )
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "text":
            yield _start(index, {"type": "text", "text": ""})
            for citation in block.get("citations") or ():
                yield _delta(index, {"type": "citations_delta", "citation": citation})
            for piece in _chunks(block["text"], size):
                yield _delta(index, {"type": "text_delta", "text": piece})
        elif kind == "thinking":
            yield _start(index, {"type": "thinking", "thinking": "", "signature": ""})
            for piece in _chunks(block["thinking"], size):
                yield _delta(index, {"type": "thinking_delta", "thinking": piece})
            yield _delta(index, {"type": "signature_delta", "signature": block["signature"]})
        elif kind in ("tool_use", "server_tool_use"):
            yield _start(index, {**block, "input": {}})
            raw = json.dumps(block["input"])
            yield _delta(index, {"type": "input_json_delta", "partial_json": ""})
            for piece in _chunks(raw, max(size, 8)):
                yield _delta(index, {"type": "input_json_delta", "partial_json": piece})
        else:
            yield _start(index, block)
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    delta_usage: dict[str, Any] = {
        "input_tokens": usage["input_tokens"],
        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
        "cache_read_input_tokens": usage["cache_read_input_tokens"],
        "output_tokens": usage["output_tokens"],
    }
    if "server_tool_use" in usage:
        delta_usage["server_tool_use"] = usage["server_tool_use"]
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": delta_usage,
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _start(index: int, block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "content_block_start", {
        "type": "content_block_start",
        "index": index,
        "content_block": block,
    }


def _delta(index: int, delta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def output_tokens_for(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))

"""Reply scripts for the Claude emulator: what the next /v1/messages call answers.

A `Reply` lists content blocks (text, thinking, tool_use, server_tool_use,
web_search_tool_result), a stop_reason, usage numbers, timing, and optionally a failure.
Scripts are msgspec Structs, so the same shapes travel as JSON over the control API.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class TextBlock(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    text: str


class ThinkingBlock(msgspec.Struct, tag="thinking", tag_field="type", kw_only=True):
    thinking: str
    signature: str = ""  # generated when empty


class ToolUseBlock(msgspec.Struct, tag="tool_use", tag_field="type", kw_only=True):
    name: str
    input: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str = ""  # generated when empty


class ServerToolUseBlock(msgspec.Struct, tag="server_tool_use", tag_field="type", kw_only=True):
    name: str = "web_search"
    input: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str = ""


class WebSearchResult(msgspec.Struct, kw_only=True):
    url: str
    title: str
    page_age: str | None = None
    encrypted_content: str = "EmulatedEncryptedContent"


class WebSearchToolResultBlock(
    msgspec.Struct, tag="web_search_tool_result", tag_field="type", kw_only=True
):
    results: list[WebSearchResult] = msgspec.field(default_factory=list)
    tool_use_id: str = ""  # defaults to the preceding server_tool_use block's id
    error_code: str | None = None  # e.g. "max_uses_exceeded": answer an error instead


Block = TextBlock | ThinkingBlock | ToolUseBlock | ServerToolUseBlock | WebSearchToolResultBlock


class Usage(msgspec.Struct, kw_only=True):
    """Usage to report; None means estimate (input from the request, output from the reply)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class RateLimited(msgspec.Struct, tag="rate_limit", tag_field="kind", kw_only=True):
    """HTTP 429 rate_limit_error with a retry-after header (seconds)."""

    retry_after: float = 1.0
    message: str = "Number of request tokens has exceeded your per-minute rate limit"


class Overloaded(msgspec.Struct, tag="overloaded", tag_field="kind", kw_only=True):
    """HTTP 529 overloaded_error."""

    message: str = "Overloaded"


class PromptTooLong(msgspec.Struct, tag="prompt_too_long", tag_field="kind", kw_only=True):
    """HTTP 400 invalid_request_error "prompt is too long: N tokens > M maximum"."""

    tokens: int = 210_000
    maximum: int = 200_000


class StreamBreak(msgspec.Struct, tag="break_stream", tag_field="kind", kw_only=True):
    """Stop a stream after `after_events` SSE events: drop the connection, or send an
    `error` event (overloaded_error) as the API does when it fails mid-stream."""

    after_events: int = 3
    mode: Literal["disconnect", "error_event"] = "disconnect"


class HttpError(msgspec.Struct, tag="http_error", tag_field="kind", kw_only=True):
    """Any error answer: status, error type and message, extra headers."""

    status: int
    error_type: str
    message: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)


Failure = RateLimited | Overloaded | PromptTooLong | StreamBreak | HttpError


class Reply(msgspec.Struct, kw_only=True):
    """One scripted answer, consumed by the first /v1/messages request it matches."""

    content: list[Block] = msgspec.field(default_factory=list)
    stop_reason: str | None = None  # default: tool_use if a tool_use block, else end_turn
    usage: Usage = msgspec.field(default_factory=Usage)
    first_token_delay: float = 0.0  # seconds before the first content block
    chunk_delay: float = 0.0  # seconds between deltas
    chunk_size: int = 0  # characters per text/thinking delta; 0 = default
    failure: Failure | None = None
    reported_model: str | None = None  # the model id the reply reports (a dated snapshot)
    # matching: the script is used only for requests that satisfy these
    model: str | None = None
    contains: str | None = None  # substring of the last user text


def text_reply(text: str, **kwargs: Any) -> Reply:
    return Reply(content=[TextBlock(text=text)], **kwargs)


def tool_reply(
    name: str, tool_input: dict[str, Any], *, text: str | None = None, **kwargs: Any
) -> Reply:
    blocks: list[Block] = [TextBlock(text=text)] if text else []
    blocks.append(ToolUseBlock(name=name, input=tool_input))
    return Reply(content=blocks, **kwargs)


def failure_reply(failure: Failure, **kwargs: Any) -> Reply:
    return Reply(failure=failure, **kwargs)


_replies_decoder = msgspec.json.Decoder(list[Reply])


def replies_from_json(data: bytes) -> list[Reply]:
    return _replies_decoder.decode(data)


def reply_to_builtins(reply: Reply) -> Any:
    return msgspec.to_builtins(reply)

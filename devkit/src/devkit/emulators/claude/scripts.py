"""Reply scripts for the Claude emulator: what the next /v1/messages call answers.

A `Reply` lists content blocks, a stop_reason, usage numbers, timing, optionally a failure,
and the matchers that say which request it answers. Scripts are msgspec Structs, so the same
shapes travel as JSON over the control API (``POST /_control/replies``); a block's ``type``
and a failure's ``kind`` are their tags. See the package docstring for the whole scripting
guide (tool loops, server tools, pause_turn, thinking).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import msgspec

# ---- citations on text blocks ------------------------------------------------------------


class WebSearchCitation(
    msgspec.Struct, tag="web_search_result_location", tag_field="type", kw_only=True
):
    """A text block citing a web search result (as the API returns with web_search)."""

    url: str
    title: str | None = None
    cited_text: str = ""
    encrypted_index: str = "EmulatedEncryptedIndex"


class CharCitation(msgspec.Struct, tag="char_location", tag_field="type", kw_only=True):
    """A text block citing a plain-text document (e.g. a page web_fetch returned)."""

    document_index: int = 0
    document_title: str | None = None
    start_char_index: int = 0
    end_char_index: int = 0
    cited_text: str = ""


Citation = WebSearchCitation | CharCitation


# ---- content blocks ----------------------------------------------------------------------


class TextBlock(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    text: str
    citations: list[Citation] | None = None  # streamed as citations_delta events


class ThinkingBlock(msgspec.Struct, tag="thinking", tag_field="type", kw_only=True):
    thinking: str
    signature: str = ""  # generated when empty; must come back unchanged


class RedactedThinkingBlock(
    msgspec.Struct, tag="redacted_thinking", tag_field="type", kw_only=True
):
    data: str = ""  # generated when empty; must come back unchanged


class ToolUseBlock(msgspec.Struct, tag="tool_use", tag_field="type", kw_only=True):
    name: str
    input: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str = ""  # generated when empty


class ServerToolUseBlock(msgspec.Struct, tag="server_tool_use", tag_field="type", kw_only=True):
    name: str = "web_search"  # or "web_fetch"
    input: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str = ""  # generated when empty


class WebSearchResult(msgspec.Struct, kw_only=True):
    url: str
    title: str
    page_age: str | None = None
    encrypted_content: str = "EmulatedEncryptedContent"


class WebSearchToolResultBlock(
    msgspec.Struct, tag="web_search_tool_result", tag_field="type", kw_only=True
):
    results: list[WebSearchResult] = msgspec.field(default_factory=list)
    tool_use_id: str = ""  # default: the server_tool_use it answers (see package docstring)
    error_code: str | None = None  # e.g. "max_uses_exceeded": answer an error instead


class WebFetchToolResultBlock(
    msgspec.Struct, tag="web_fetch_tool_result", tag_field="type", kw_only=True
):
    """A fetched page as a plain-text document (or an error such as url_not_accessible)."""

    url: str = ""
    text: str = ""
    title: str | None = None
    media_type: str = "text/plain"
    retrieved_at: str = "2026-01-01T00:00:00Z"
    citations: bool = True
    tool_use_id: str = ""
    error_code: str | None = None


Block = (
    TextBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ServerToolUseBlock
    | WebSearchToolResultBlock
    | WebFetchToolResultBlock
)


class Usage(msgspec.Struct, kw_only=True):
    """Usage to report; None means estimate (input from the request, output from the reply,
    cache figures from the emulator's prompt-cache model)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


# ---- failures ----------------------------------------------------------------------------


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

RequestKind = Literal["user", "tool_result", "continuation"]
"""What a request asks for: a fresh user input; the next step after tool results (the last
message is a user message carrying tool_result blocks); or the continuation of a paused or
prefilled assistant message (the last message is the assistant's)."""


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
    # matching: the script is used only for requests that satisfy all of these
    model: str | None = None
    contains: str | None = None  # substring of the turn's user text (rules.turn_text)
    answers: RequestKind | None = None  # the kind of request (see RequestKind)


# ---- builders ----------------------------------------------------------------------------


def text_reply(text: str, **kwargs: Any) -> Reply:
    return Reply(content=[TextBlock(text=text)], **kwargs)


def _thinking(thinking: str | None) -> list[Block]:
    return [ThinkingBlock(thinking=thinking)] if thinking else []


def tool_reply(
    name: str,
    tool_input: dict[str, Any],
    *,
    text: str | None = None,
    thinking: str | None = None,
    tool_id: str = "",
    **kwargs: Any,
) -> Reply:
    """[thinking] [text] tool_use -> stop_reason tool_use."""
    blocks = _thinking(thinking)
    if text:
        blocks.append(TextBlock(text=text))
    blocks.append(ToolUseBlock(name=name, input=tool_input, id=tool_id))
    return Reply(content=blocks, **kwargs)


def parallel_tools_reply(
    calls: Iterable[tuple[str, dict[str, Any]]],
    *,
    text: str | None = None,
    thinking: str | None = None,
    **kwargs: Any,
) -> Reply:
    """Several tool_use blocks in one step (the client runs them and answers all at once)."""
    blocks = _thinking(thinking)
    if text:
        blocks.append(TextBlock(text=text))
    blocks.extend(ToolUseBlock(name=name, input=args) for name, args in calls)
    return Reply(content=blocks, **kwargs)


def web_search_reply(
    query: str,
    results: Sequence[WebSearchResult],
    answer: str,
    *,
    thinking: str | None = None,
    cite: bool = True,
    **kwargs: Any,
) -> Reply:
    """server_tool_use web_search -> web_search_tool_result -> the answer, citing the first
    result when `cite` (the API's citations shape) -> end_turn."""
    blocks = _thinking(thinking)
    blocks.append(ServerToolUseBlock(name="web_search", input={"query": query}))
    blocks.append(WebSearchToolResultBlock(results=list(results)))
    citations: list[Citation] | None = None
    if cite and results:
        first = results[0]
        citations = [WebSearchCitation(url=first.url, title=first.title, cited_text=answer[:150])]
    blocks.append(TextBlock(text=answer, citations=citations))
    return Reply(content=blocks, **kwargs)


def web_fetch_reply(
    url: str, page_text: str, answer: str, *, title: str | None = None, **kwargs: Any
) -> Reply:
    """server_tool_use web_fetch -> web_fetch_tool_result (plain-text document) -> the answer
    citing the page's first characters -> end_turn."""
    cited = page_text[:100]
    return Reply(
        content=[
            ServerToolUseBlock(name="web_fetch", input={"url": url}),
            WebFetchToolResultBlock(url=url, text=page_text, title=title),
            TextBlock(
                text=answer,
                citations=[
                    CharCitation(document_title=title, end_char_index=len(cited), cited_text=cited)
                ],
            ),
        ],
        **kwargs,
    )


def pause_reply(
    name: str = "web_search", tool_input: dict[str, Any] | None = None, **kwargs: Any
) -> Reply:
    """A long server-tool turn paused by the API: server_tool_use, stop_reason pause_turn.
    The client sends the content back as the last (assistant) message to continue."""
    block = ServerToolUseBlock(name=name, input=tool_input or {"query": "..."})
    return Reply(content=[block], stop_reason="pause_turn", **kwargs)


def failure_reply(failure: Failure, **kwargs: Any) -> Reply:
    return Reply(failure=failure, **kwargs)


def tool_loop(*steps: Reply, contains: str | None = None, model: str | None = None) -> list[Reply]:
    """The replies of one multi-step turn, bound to it so other requests (a topic title, a
    concurrent thread) cannot take them: step 1 answers the user's input, each later step
    answers the tool results of the step before, or continues it after pause_turn. Every
    step gets `contains` / `model` unless it sets its own."""
    bound: list[Reply] = []
    previous: Reply | None = None
    for step in steps:
        if step.answers is not None:
            answers = step.answers
        elif previous is None:
            answers = "user"
        elif previous.stop_reason == "pause_turn":
            answers = "continuation"
        else:
            answers = "tool_result"
        bound.append(
            msgspec.structs.replace(
                step,
                answers=answers,
                contains=step.contains if step.contains is not None else contains,
                model=step.model if step.model is not None else model,
            )
        )
        previous = step
    return bound


_replies_decoder = msgspec.json.Decoder(list[Reply])


def replies_from_json(data: bytes) -> list[Reply]:
    return _replies_decoder.decode(data)


def reply_to_builtins(reply: Reply) -> Any:
    return msgspec.to_builtins(reply)

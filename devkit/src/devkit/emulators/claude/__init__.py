"""Claude API emulator (ANTHROPIC_BASE_URL): server, reply scripts and the deterministic rules.

Scripting guide
===============

Every ``POST /v1/messages`` takes the first queued :class:`Reply` it *matches*; with none it
answers the default reply (see :mod:`.rules`: echo, ``use tool NAME {json}``, "Tool result: ...",
a thinking block first when thinking is on). Queue replies in-process with
``emulator.script(*replies)`` or over HTTP with ``POST /_control/replies`` and
``{"replies": [<Reply as JSON>, ...]}`` (blocks tagged by ``type``, failures by ``kind``).

Matchers of a Reply (all optional, all must hold):

- ``model``: the request's model id;
- ``contains``: a substring of the turn's user text, i.e. the text of the last user message
  that has text and no tool results (a request answering tool results still matches its
  turn's input);
- ``answers``: the kind of request -- ``"user"`` (a fresh user input), ``"tool_result"``
  (the last message is a user message with tool_result blocks) or ``"continuation"`` (the
  last message is the assistant's: a pause_turn continuation or a prefill).

Blocks: ``TextBlock(text, citations=[WebSearchCitation | CharCitation])``,
``ThinkingBlock(thinking, signature="")``, ``RedactedThinkingBlock(data="")``,
``ToolUseBlock(name, input, id="")``, ``ServerToolUseBlock(name="web_search"|"web_fetch",
input)``, ``WebSearchToolResultBlock(results=[WebSearchResult(url, title)], error_code=None)``,
``WebFetchToolResultBlock(url, text, title, error_code=None)``. Empty ids, signatures and
redacted data are generated. A server tool result's empty ``tool_use_id`` is the id of the
server_tool_use before it in the same reply, else the unanswered server_tool_use of the
request's last (assistant) message: that is how a pause_turn continuation answers the search
the paused step started. ``stop_reason`` defaults to ``tool_use`` when the reply has a
tool_use block, else ``end_turn`` (``max_tokens`` when cut at the request's max_tokens); set
``"pause_turn"`` explicitly. Usage is estimated (about 4 characters a token) unless scripted;
``server_tool_use.web_search_requests`` / ``web_fetch_requests`` count the server tool uses,
and a use beyond the ``max_uses`` of the request's tool definition is answered
``max_uses_exceeded`` (its result block turns into the error) and not counted.

A multi-step tool loop is a sequence of replies bound to one turn with :func:`tool_loop`
(``emulator.script_loop(...)``; over HTTP ``{"replies": [...], "loop": {"contains": "..."}}``)::

    emulator.script_loop(
        tool_reply("web_fetch_page", {"url": "https://a.example"}, thinking="Read it."),
        parallel_tools_reply([("calc", {"x": 1}), ("calc", {"x": 2})]),
        pause_reply("web_search", {"query": "news"}),
        Reply(content=[WebSearchToolResultBlock(results=[...]), TextBlock(text="Done.")]),
        contains="what is new",
    )

Step 1 answers the user's input, each later step the tool results of the one before (or
the continuation after pause_turn). Builders: :func:`text_reply`, :func:`tool_reply`,
:func:`parallel_tools_reply`, :func:`web_search_reply`, :func:`web_fetch_reply`,
:func:`pause_reply`, :func:`failure_reply`.

Rules the emulator enforces like the API (HTTP 400 ``invalid_request_error`` with the API's
``{"type": "error", "error": {"type", "message"}, "request_id"}`` body and message texts):
a tool_result whose tool_use is not in the previous assistant message; tool_use ids without
their tool_result in the next message; thinking/redacted_thinking blocks altered (their
signature/data is checked) or, with thinking on, dropped from the latest assistant message
of a tool loop; thinking with a tool_choice forcing a tool; invalid tools (name pattern,
duplicate names, an input_schema that is not a JSON Schema object); more than 4
cache_control breakpoints; a 1h breakpoint after a 5m one.

Prompt cache (:class:`PromptCache`), as the API's: a breakpoint writes the prefix ending at
its block (tools, then system, then messages; cache_control markers are not part of it); a
request reads the longest cached prefix found at one of its breakpoints or at an earlier
block boundary at most 20 blocks before one; below the model's minimum (1024 tokens for
Sonnet 4.6, 4096 for Opus 4.6 and Haiku 4.5) nothing is cached; entries live 5 minutes or,
with ``ttl: "1h"``, an hour, each read refreshing them. Usage reports
cache_read_input_tokens, cache_creation_input_tokens with the ``cache_creation``
ephemeral_5m/1h split, and input_tokens for what follows the last breakpoint.
"""

from .rules import PromptCache, default_reply, estimate_tokens, request_tokens
from .scripts import (
    Block,
    CharCitation,
    Citation,
    Failure,
    HttpError,
    Overloaded,
    PromptTooLong,
    RateLimited,
    RedactedThinkingBlock,
    Reply,
    RequestKind,
    ServerToolUseBlock,
    StreamBreak,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
    WebFetchToolResultBlock,
    WebSearchCitation,
    WebSearchResult,
    WebSearchToolResultBlock,
    failure_reply,
    parallel_tools_reply,
    pause_reply,
    text_reply,
    tool_loop,
    tool_reply,
    web_fetch_reply,
    web_search_reply,
)
from .server import ClaudeEmulator, RecordedRequest

__all__ = [
    "Block",
    "CharCitation",
    "Citation",
    "ClaudeEmulator",
    "Failure",
    "HttpError",
    "Overloaded",
    "PromptCache",
    "PromptTooLong",
    "RateLimited",
    "RecordedRequest",
    "RedactedThinkingBlock",
    "Reply",
    "RequestKind",
    "ServerToolUseBlock",
    "StreamBreak",
    "TextBlock",
    "ThinkingBlock",
    "ToolUseBlock",
    "Usage",
    "WebFetchToolResultBlock",
    "WebSearchCitation",
    "WebSearchResult",
    "WebSearchToolResultBlock",
    "default_reply",
    "estimate_tokens",
    "failure_reply",
    "parallel_tools_reply",
    "pause_reply",
    "request_tokens",
    "text_reply",
    "tool_loop",
    "tool_reply",
    "web_fetch_reply",
    "web_search_reply",
]

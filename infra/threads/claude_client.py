"""The Claude adapter of the chat provider port (:mod:`actors.thread.provider`): one streamed
Messages call, with HTTP errors and transport exceptions translated at this boundary into
:class:`ModelCallError` carrying a :class:`ModelFailure`.

The calls go through the worker's own client (:mod:`infra.threads.messages_stream`): the
anthropic SDK is never imported for them (:mod:`infra.threads.claude_api`).

Streaming callbacks receive text and thinking deltas as they arrive; a first-token timeout
and an idle timeout between events bound a stalled stream. What was observed so far
(``StreamProgress``) stays readable after a failure or a cancellation, so the caller can
report the usage actually consumed.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from actors.thread.errors import ModelFailure
from actors.thread.provider import ModelCallError, StepResult, StreamProgress
from actors.thread.tokens import token_weight
from events.usage import Usage
from infra.threads.claude_api import ClaudeApi
from infra.threads.messages_stream import MessagesStreamer, StreamFailure

if TYPE_CHECKING:
    import anthropic

__all__ = ["ClaudeClient", "ModelCallError", "StepResult", "StreamProgress"]


def translate(exc: BaseException, *, streamed: bool) -> ModelFailure:
    """Our failure record for an exception the client's own call did not classify (its HTTP
    and transport failures come as :class:`StreamFailure`): a timeout, else a defect."""
    if isinstance(exc, TimeoutError):
        return ModelFailure("timeout", str(exc) or "no answer in time", streamed=streamed)
    return ModelFailure("internal", f"{type(exc).__name__}: {exc}", streamed=streamed)


def usage_from_json(raw: Mapping[str, Any] | None, thinking_chars: int = 0) -> Usage:
    """Our Usage from the API's usage object (a JSON dict; cache writes split by TTL when
    reported)."""
    if not raw:
        return Usage()
    creation = raw.get("cache_creation") or {}
    total_creation = int(raw.get("cache_creation_input_tokens") or 0)
    five = int(creation.get("ephemeral_5m_input_tokens") or 0)
    hour = int(creation.get("ephemeral_1h_input_tokens") or 0)
    if five + hour != total_creation:
        five, hour = total_creation - hour, hour
    server = raw.get("server_tool_use") or {}
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0),
        output_tokens=int(raw.get("output_tokens") or 0),
        cache_creation_5m_input_tokens=max(0, five),
        cache_creation_1h_input_tokens=max(0, hour),
        cache_read_input_tokens=int(raw.get("cache_read_input_tokens") or 0),
        thinking_tokens=math.ceil(thinking_chars / 4),
        web_search_requests=int(server.get("web_search_requests") or 0),
        web_fetch_requests=int(server.get("web_fetch_requests") or 0),
    )


def _without_none(block: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if v is not None}


class _Accumulator:
    """The final message of a raw event stream, as the SDK's stream helper would build it:
    content blocks as JSON dicts (text, thinking with signature, tool input), the stop
    reason, and the usage (message_delta's cumulative counts overwrite message_start's)."""

    def __init__(self) -> None:
        self.started = False
        self.message_id = ""
        self.model = ""
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.json_parts: dict[int, list[str]] = {}

    def start(self, message: Mapping[str, Any]) -> None:
        self.started = True
        self.message_id = str(message.get("id", ""))
        self.model = str(message.get("model", ""))
        self.usage = dict(message.get("usage") or {})
        for index, block in enumerate(message.get("content") or ()):
            self.block(index, block)

    def block(self, index: int, block: Mapping[str, Any]) -> None:
        self.blocks[index] = _without_none(block)

    def delta(self, index: int, delta: Mapping[str, Any]) -> None:
        block = self.blocks.get(index)
        if block is None:
            return
        kind = delta.get("type")
        if kind == "text_delta":
            if block.get("type") == "text":
                block["text"] = block.get("text", "") + delta.get("text", "")
        elif kind == "thinking_delta":
            if block.get("type") == "thinking":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
        elif kind == "signature_delta":
            if block.get("type") == "thinking":
                block["signature"] = delta.get("signature", "")
        elif kind == "input_json_delta":
            self.json_parts.setdefault(index, []).append(delta.get("partial_json", ""))
        elif kind == "citations_delta" and block.get("type") == "text":
            citation = _without_none(delta.get("citation") or {})
            block.setdefault("citations", []).append(citation)

    def message_delta(self, event: Mapping[str, Any]) -> None:
        self.stop_reason = (event.get("delta") or {}).get("stop_reason")
        update = event.get("usage") or {}
        if "output_tokens" in update:
            self.usage["output_tokens"] = update["output_tokens"]
        for name in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "server_tool_use",
        ):
            value = update.get(name)
            if value is not None:
                self.usage[name] = value

    def finish(self, index: int) -> dict[str, Any] | None:
        """The block at ``index`` once complete (its streamed JSON input parsed)."""
        parts = self.json_parts.pop(index, None)
        block = self.blocks.get(index)
        if block is not None and parts:
            joined = "".join(parts)
            if joined:
                block["input"] = json.loads(joined)
        return block

    def content(self) -> list[dict[str, Any]]:
        for index, parts in self.json_parts.items():
            joined = "".join(parts)
            if index in self.blocks and joined:
                self.blocks[index]["input"] = json.loads(joined)
        return [self.blocks[i] for i in sorted(self.blocks)]


class ClaudeClient:
    """Streams one Messages call at a time for a turn; translate failures at the boundary.

    The calls go through :class:`MessagesStreamer` (aiohttp + msgspec) to ``api``: a
    :class:`ClaudeApi`, or an SDK client whose base URL and headers are used (and which
    :meth:`close` closes).
    """

    def __init__(
        self,
        api: ClaudeApi | anthropic.AsyncAnthropic,
        *,
        first_token_timeout: float = 60.0,
        idle_timeout: float = 60.0,
    ) -> None:
        self._sdk_client = None if isinstance(api, ClaudeApi) else api
        if not isinstance(api, ClaudeApi):
            api = ClaudeApi.of_sdk_client(api)
        self._streamer = MessagesStreamer(api.base_url, api.headers)
        self.first_token_timeout = first_token_timeout
        self.idle_timeout = idle_timeout

    async def close(self) -> None:
        await self._streamer.close()
        if self._sdk_client is not None:
            await self._sdk_client.close()

    async def stream(
        self,
        kwargs: dict[str, Any],
        progress: StreamProgress,
        *,
        on_text: Callable[[str], None] | None = None,
        on_thinking: Callable[[str], None] | None = None,
        on_request: Callable[[], None] | None = None,
        on_block: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> StepResult:
        """Run one streamed call; raises :class:`ModelCallError` on any failure.

        ``on_block`` gets each content block when it is complete (a server tool call with
        its input, a search result, a text block with its citations)."""
        loop = asyncio.get_running_loop()
        acc = _Accumulator()
        try:
            async with asyncio.timeout(self.first_token_timeout) as deadline:
                if on_request is not None:
                    on_request()
                async for event in self._streamer.events(kwargs):
                    kind = event.get("type")
                    if kind == "content_block_delta":
                        now = loop.time()
                        if progress.first_token_at is None:
                            progress.first_token_at = now
                        progress.last_token_at = now
                        deadline.reschedule(now + self.idle_timeout)
                        delta = event.get("delta") or {}
                        acc.delta(int(event.get("index", 0)), delta)
                        delta_kind = delta.get("type")
                        if delta_kind == "text_delta":
                            text = delta.get("text", "")
                            progress.text += text
                            if on_text is not None:
                                on_text(text)
                        elif delta_kind == "thinking_delta":
                            thinking = delta.get("thinking", "")
                            progress.thinking_chars += len(thinking)
                            progress.thinking_weight += token_weight(thinking)
                            if on_thinking is not None:
                                on_thinking(thinking)
                    elif kind == "message_start":
                        message = event.get("message") or {}
                        acc.start(message)
                        progress.started = True
                        progress.api_message_id = acc.message_id
                        progress.model = acc.model
                        progress.start_usage = usage_from_json(message.get("usage"))
                    elif kind == "content_block_start":
                        acc.block(int(event.get("index", 0)), event.get("content_block") or {})
                        deadline.reschedule(loop.time() + self.idle_timeout)
                    elif kind == "content_block_stop":
                        done = acc.finish(int(event.get("index", 0)))
                        if done is not None and on_block is not None:
                            on_block(done)
                    elif kind == "message_delta":
                        acc.message_delta(event)
                        deadline.reschedule(loop.time() + self.idle_timeout)
        except asyncio.CancelledError:
            raise
        except StreamFailure as exc:
            raise ModelCallError(exc.failure) from exc
        except Exception as exc:
            raise ModelCallError(translate(exc, streamed=progress.started)) from exc
        if not acc.started or acc.stop_reason is None:
            raise ModelCallError(
                ModelFailure("stream_broken", "the stream ended early", streamed=True)
            )
        content = acc.content()
        text = "".join(b.get("text", "") for b in content if b.get("type") == "text")
        return StepResult(
            api_message_id=acc.message_id,
            model=acc.model,
            text=text,
            stop_reason=str(acc.stop_reason),
            usage=usage_from_json(acc.usage, progress.thinking_chars),
            content=content,
        )

    async def complete(self, kwargs: dict[str, Any], timeout: float = 20.0) -> tuple[str, Usage]:
        """A small non-streamed call (topic titles): its text and usage."""
        try:
            async with asyncio.timeout(timeout):
                message = await self._streamer.create(kwargs)
        except asyncio.CancelledError:
            raise
        except StreamFailure as exc:
            raise ModelCallError(exc.failure) from exc
        except Exception as exc:
            raise ModelCallError(translate(exc, streamed=False)) from exc
        blocks = [b for b in message.get("content") or () if isinstance(b, dict)]
        text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
        return text, usage_from_json(message.get("usage"))

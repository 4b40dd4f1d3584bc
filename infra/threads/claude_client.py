"""The Claude adapter: one streamed Messages call, with SDK exceptions translated at this
boundary into :class:`ModelCallError` carrying a :class:`ModelFailure`.

Streaming callbacks receive text and thinking deltas as they arrive; a first-token timeout
and an idle timeout between events bound a stalled stream. What was observed so far
(``StreamProgress``) stays readable after a failure or a cancellation, so the caller can
report the usage actually consumed.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic

from actors.thread.errors import FailureKind, ModelFailure
from events.usage import Usage


class ModelCallError(Exception):
    def __init__(self, failure: ModelFailure) -> None:
        super().__init__(f"{failure.kind}: {failure.detail}")
        self.failure = failure


@dataclass(slots=True)
class StreamProgress:
    """What one call has produced so far (read after success, failure or cancellation)."""

    started: bool = False
    api_message_id: str = ""
    model: str = ""
    start_usage: Usage = field(default_factory=Usage)
    text: str = ""
    thinking_chars: int = 0
    first_token_at: float | None = None
    last_token_at: float | None = None

    def partial_usage(self) -> Usage:
        """Input as the API reported at message_start; output estimated from what streamed."""
        if not self.started:
            return Usage()
        output = math.ceil((len(self.text) + self.thinking_chars) / 4)
        return Usage(
            input_tokens=self.start_usage.input_tokens,
            output_tokens=output,
            cache_creation_5m_input_tokens=self.start_usage.cache_creation_5m_input_tokens,
            cache_creation_1h_input_tokens=self.start_usage.cache_creation_1h_input_tokens,
            cache_read_input_tokens=self.start_usage.cache_read_input_tokens,
            thinking_tokens=math.ceil(self.thinking_chars / 4),
        )


@dataclass(frozen=True, slots=True)
class StepResult:
    api_message_id: str
    model: str
    text: str
    stop_reason: str
    usage: Usage
    content: list[dict[str, Any]]


def usage_from_api(raw: Any, thinking_chars: int = 0) -> Usage:
    """Our Usage from the SDK's usage object (cache writes split by TTL when reported)."""
    if raw is None:
        return Usage()
    creation = getattr(raw, "cache_creation", None)
    total_creation = int(getattr(raw, "cache_creation_input_tokens", 0) or 0)
    five = int(getattr(creation, "ephemeral_5m_input_tokens", 0) or 0) if creation else 0
    hour = int(getattr(creation, "ephemeral_1h_input_tokens", 0) or 0) if creation else 0
    if five + hour != total_creation:
        five, hour = total_creation - hour, hour
    server = getattr(raw, "server_tool_use", None)
    return Usage(
        input_tokens=int(getattr(raw, "input_tokens", 0) or 0),
        output_tokens=int(getattr(raw, "output_tokens", 0) or 0),
        cache_creation_5m_input_tokens=max(0, five),
        cache_creation_1h_input_tokens=max(0, hour),
        cache_read_input_tokens=int(getattr(raw, "cache_read_input_tokens", 0) or 0),
        thinking_tokens=math.ceil(thinking_chars / 4),
        web_search_requests=int(getattr(server, "web_search_requests", 0) or 0) if server else 0,
        web_fetch_requests=int(getattr(server, "web_fetch_requests", 0) or 0) if server else 0,
    )


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    raw = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def _error_type(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("type", ""))
    return ""


def translate(exc: BaseException, *, streamed: bool) -> ModelFailure:
    """Our failure record for an SDK or transport exception."""
    kind: FailureKind
    if isinstance(exc, anthropic.APITimeoutError | TimeoutError):
        return ModelFailure("timeout", str(exc) or "no answer in time", streamed=streamed)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        detail = exc.message
        if status == 200 or streamed:
            # an `error` event in the middle of a stream
            return ModelFailure(
                "stream_broken", f"{_error_type(exc)}: {detail}", status=status, streamed=streamed
            )
        if isinstance(exc, anthropic.RateLimitError):
            kind = "rate_limited"
        elif status == 529 or _error_type(exc) == "overloaded_error":
            kind = "overloaded"
        elif isinstance(exc, anthropic.BadRequestError):
            kind = "prompt_too_long" if "prompt is too long" in detail else "invalid_request"
        elif isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
            kind = "auth"
        elif status == 413:
            kind = "invalid_request"
        else:
            kind = "api_error"
        return ModelFailure(
            kind, detail, status=status, retry_after=_retry_after(exc), streamed=streamed
        )
    if isinstance(exc, anthropic.APIConnectionError) or type(exc).__module__.startswith("httpx"):
        kind = "stream_broken" if streamed else "api_error"
        return ModelFailure(kind, str(exc) or type(exc).__name__, streamed=streamed)
    return ModelFailure("internal", f"{type(exc).__name__}: {exc}", streamed=streamed)


class _Accumulator:
    """The final message of a raw event stream, as the SDK's stream helper would build it:
    content blocks as JSON dicts (text, thinking with signature, tool input), the stop
    reason, and the usage (message_delta's cumulative counts overwrite message_start's)."""

    def __init__(self) -> None:
        self.started = False
        self.message_id = ""
        self.model = ""
        self.usage: Any = None
        self.stop_reason: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.json_parts: dict[int, list[str]] = {}

    def start(self, message: Any) -> None:
        self.started = True
        self.message_id = message.id
        self.model = message.model
        self.usage = message.usage
        for index, block in enumerate(message.content or ()):
            self.block(index, block)

    def block(self, index: int, block: Any) -> None:
        self.blocks[index] = block.model_dump(mode="json", exclude_none=True)

    def delta(self, index: int, delta: Any) -> None:
        block = self.blocks.get(index)
        if block is None:
            return
        kind = delta.type
        if kind == "text_delta":
            if block.get("type") == "text":
                block["text"] = block.get("text", "") + delta.text
        elif kind == "thinking_delta":
            if block.get("type") == "thinking":
                block["thinking"] = block.get("thinking", "") + delta.thinking
        elif kind == "signature_delta":
            if block.get("type") == "thinking":
                block["signature"] = delta.signature
        elif kind == "input_json_delta":
            self.json_parts.setdefault(index, []).append(delta.partial_json)
        elif kind == "citations_delta" and block.get("type") == "text":
            citation = delta.citation.model_dump(mode="json", exclude_none=True)
            block.setdefault("citations", []).append(citation)

    def message_delta(self, event: Any) -> None:
        self.stop_reason = event.delta.stop_reason
        usage, update = self.usage, event.usage
        if usage is None or update is None:
            return
        usage.output_tokens = update.output_tokens
        for name in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "server_tool_use",
        ):
            value = getattr(update, name, None)
            if value is not None:
                setattr(usage, name, value)

    def content(self) -> list[dict[str, Any]]:
        blocks = [self.blocks[i] for i in sorted(self.blocks)]
        for index, parts in self.json_parts.items():
            joined = "".join(parts)
            if index in self.blocks and joined:
                self.blocks[index]["input"] = json.loads(joined)
        return blocks


class ClaudeClient:
    """Streams one Messages call at a time for a turn; translate failures at the boundary."""

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        *,
        first_token_timeout: float = 60.0,
        idle_timeout: float = 60.0,
    ) -> None:
        self._client = client
        self.first_token_timeout = first_token_timeout
        self.idle_timeout = idle_timeout

    async def close(self) -> None:
        await self._client.close()

    async def stream(
        self,
        kwargs: dict[str, Any],
        progress: StreamProgress,
        *,
        on_text: Callable[[str], None] | None = None,
        on_thinking: Callable[[str], None] | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> StepResult:
        """Run one streamed call; raises :class:`ModelCallError` on any failure."""
        loop = asyncio.get_running_loop()
        acc = _Accumulator()
        try:
            async with asyncio.timeout(self.first_token_timeout) as deadline:
                if on_request is not None:
                    on_request()
                # the raw event stream: the SDK's MessageStream helper rebuilds a snapshot
                # and extra event objects for every delta (and a pydantic generic class per
                # message), several ms of CPU per turn that nothing here needs
                stream = await self._client.messages.create(**kwargs, stream=True)
                async with stream:
                    async for raw in stream:
                        event: Any = raw
                        kind = event.type
                        if kind == "content_block_delta":
                            now = loop.time()
                            if progress.first_token_at is None:
                                progress.first_token_at = now
                            progress.last_token_at = now
                            deadline.reschedule(now + self.idle_timeout)
                            delta = event.delta
                            acc.delta(event.index, delta)
                            if delta.type == "text_delta":
                                progress.text += delta.text
                                if on_text is not None:
                                    on_text(delta.text)
                            elif delta.type == "thinking_delta":
                                progress.thinking_chars += len(delta.thinking)
                                if on_thinking is not None:
                                    on_thinking(delta.thinking)
                        elif kind == "message_start":
                            message = event.message
                            acc.start(message)
                            progress.started = True
                            progress.api_message_id = message.id
                            progress.model = message.model
                            progress.start_usage = usage_from_api(message.usage)
                        elif kind == "content_block_start":
                            acc.block(event.index, event.content_block)
                            deadline.reschedule(loop.time() + self.idle_timeout)
                        elif kind == "message_delta":
                            acc.message_delta(event)
                            deadline.reschedule(loop.time() + self.idle_timeout)
        except asyncio.CancelledError:
            raise
        except ModelCallError:
            raise
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
            usage=usage_from_api(acc.usage, progress.thinking_chars),
            content=content,
        )

    async def complete(self, kwargs: dict[str, Any], timeout: float = 20.0) -> tuple[str, Usage]:
        """A small non-streamed call (topic titles): its text and usage."""
        try:
            async with asyncio.timeout(timeout):
                message = await self._client.messages.create(**kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise ModelCallError(translate(exc, streamed=False)) from exc
        text = "".join(getattr(b, "text", "") for b in message.content if b.type == "text")
        return text, usage_from_api(message.usage)

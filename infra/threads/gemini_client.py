"""The Gemini adapter of the chat provider port (:mod:`actors.thread.provider`): one streamed
``generateContent`` call through google-genai, read into the turn's result shape.

The request is translated by :mod:`actors.thread.gemini_request`. While streaming, thought
summaries go to ``on_thinking`` and text to ``on_text``; each function call becomes a
``tool_use`` block (its id, or one made from the response id when Gemini gives none), and
every part's thought signature is kept on its block so the next step sends it back. Usage:
``promptTokenCount`` less the cached tokens is input, the cached tokens are cache reads,
candidates plus thoughts are output (thinking is billed as output), thoughts are also
reported as ``thinking_tokens``. SDK errors become :class:`ModelCallError`: 429 ->
``rate_limited`` (with the RetryInfo delay), 503 -> ``overloaded``, 400 -> ``invalid_request``
(``prompt_too_long`` for too many tokens), 401/403 -> ``auth``, a broken stream ->
``stream_broken``.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping
from typing import Any, Final

from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from actors.thread.errors import FailureKind, ModelFailure
from actors.thread.gemini_request import SIGNATURE, gemini_request
from actors.thread.provider import ModelCallError, StepResult, StreamProgress
from actors.thread.tokens import token_weight
from events.usage import Usage

STOP_REASONS: Final = {"STOP": "end_turn", "MAX_TOKENS": "max_tokens"}
"""Gemini finish reasons the turn knows; any other (SAFETY, RECITATION...) ends the turn."""


def usage_from_gemini(meta: Any) -> Usage:
    """Our usage from a response's ``usage_metadata`` (None: nothing reported)."""
    if meta is None:
        return Usage()
    prompt = int(meta.prompt_token_count or 0) + int(meta.tool_use_prompt_token_count or 0)
    cached = int(meta.cached_content_token_count or 0)
    thoughts = int(meta.thoughts_token_count or 0)
    return Usage(
        input_tokens=max(0, prompt - cached),
        output_tokens=int(meta.candidates_token_count or 0) + thoughts,
        cache_read_input_tokens=cached,
        thinking_tokens=thoughts,
    )


def _retry_delay(details: Any) -> float | None:
    error = details.get("error", details) if isinstance(details, dict) else {}
    for detail in error.get("details") or () if isinstance(error, dict) else ():
        delay = str(detail.get("retryDelay", "")) if isinstance(detail, dict) else ""
        if delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None


def translate(exc: BaseException, *, streamed: bool) -> ModelFailure:
    """Our failure record for a google-genai or transport exception."""
    if isinstance(exc, TimeoutError):
        return ModelFailure("timeout", str(exc) or "no answer in time", streamed=streamed)
    if isinstance(exc, genai_errors.APIError):
        status, message = int(exc.code or 0), str(exc.message or exc)
        if streamed:
            return ModelFailure("stream_broken", message, status=status, streamed=True)
        kind: FailureKind = "api_error"
        if status == 429:
            kind = "rate_limited"
        elif status == 503:
            kind = "overloaded"
        elif status == 400:
            too_long = "exceeds the maximum number of tokens" in message
            kind = "prompt_too_long" if too_long else "invalid_request"
        elif status in (401, 403):
            kind = "auth"
        return ModelFailure(kind, message, status=status, retry_after=_retry_delay(exc.details))
    kind = "stream_broken" if streamed else "api_error"
    return ModelFailure(kind, f"{type(exc).__name__}: {exc}", streamed=streamed)


class _Step:
    """The blocks of one streamed response, built chunk by chunk."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.calls = 0
        self.response_id = ""
        self.model = ""
        self.finish: str | None = None
        self.usage: Any = None

    def add(self, part: genai_types.Part) -> tuple[str, str] | None:
        """Record ``part``; returns ``("text"|"thinking", delta)`` for streamed text."""
        signature = (
            base64.b64encode(part.thought_signature).decode() if part.thought_signature else ""
        )
        if part.function_call is not None:
            call = part.function_call
            self.calls += 1
            call_id = call.id or f"{self.response_id or 'gemini'}-call-{self.calls}"
            block: dict[str, Any] = {"type": "tool_use", "id": call_id}
            block.update(name=call.name or "", input=dict(call.args or {}))
            self._append(block, signature)
            return None
        if part.text is None and not signature:
            return None
        kind, key = ("thinking", "thinking") if part.thought else ("text", "text")
        last = self.blocks[-1] if self.blocks else None
        if last is not None and last["type"] == kind and SIGNATURE not in last:
            last[key] += part.text or ""
            if signature:
                last[SIGNATURE] = signature
        else:
            self._append({"type": kind, key: part.text or ""}, signature)
        return kind, part.text or ""

    def _append(self, block: dict[str, Any], signature: str) -> None:
        if signature:
            block[SIGNATURE] = signature
        self.blocks.append(block)

    def stop_reason(self) -> str:
        if self.calls:
            return "tool_use"
        return STOP_REASONS.get(self.finish or "", "refusal")


class GeminiClient:
    """Streams one Gemini call at a time for a turn; failures translated at the boundary."""

    def __init__(
        self,
        client: genai.Client,
        *,
        first_token_timeout: float = 60.0,
        idle_timeout: float = 60.0,
    ) -> None:
        self._client = client
        self.first_token_timeout = first_token_timeout
        self.idle_timeout = idle_timeout

    async def close(self) -> None:
        await self._client.aio.aclose()

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
        """Run one streamed call; raises :class:`ModelCallError` on any failure."""
        model, contents, config = gemini_request(kwargs)
        step = _Step()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.first_token_timeout) as deadline:
                if on_request is not None:
                    on_request()
                chunks = await self._client.aio.models.generate_content_stream(
                    model=model,
                    contents=contents,  # type: ignore[arg-type]  # dicts of ContentDict shape
                    config=config,  # type: ignore[arg-type]
                )
                async for chunk in chunks:
                    now = loop.time()
                    deadline.reschedule(now + self.idle_timeout)
                    self._chunk(chunk, step, progress, now, on_text, on_thinking)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise ModelCallError(translate(exc, streamed=progress.started)) from exc
        if not progress.started or step.finish is None:
            raise ModelCallError(
                ModelFailure("stream_broken", "the stream ended early", streamed=True)
            )
        if on_block is not None:
            for block in step.blocks:
                on_block(block)
        return StepResult(
            api_message_id=step.response_id,
            model=step.model or model,
            text="".join(b["text"] for b in step.blocks if b["type"] == "text"),
            stop_reason=step.stop_reason(),
            usage=usage_from_gemini(step.usage),
            content=step.blocks,
        )

    @staticmethod
    def _chunk(
        chunk: genai_types.GenerateContentResponse,
        step: _Step,
        progress: StreamProgress,
        now: float,
        on_text: Callable[[str], None] | None,
        on_thinking: Callable[[str], None] | None,
    ) -> None:
        if not progress.started:
            progress.started = True
            step.response_id = chunk.response_id or ""
            step.model = chunk.model_version or ""
            progress.api_message_id, progress.model = step.response_id, step.model
        if chunk.usage_metadata is not None:
            step.usage = chunk.usage_metadata
            progress.start_usage = Usage(
                input_tokens=usage_from_gemini(chunk.usage_metadata).input_tokens
            )
        candidate = chunk.candidates[0] if chunk.candidates else None
        if candidate is None:
            return
        if candidate.finish_reason is not None:
            step.finish = str(candidate.finish_reason.value)
        for part in candidate.content.parts or () if candidate.content else ():
            streamed = step.add(part)
            if streamed is None or not streamed[1]:
                continue
            kind, delta = streamed
            if progress.first_token_at is None:
                progress.first_token_at = now
            progress.last_token_at = now
            if kind == "text":
                progress.text += delta
                if on_text is not None:
                    on_text(delta)
            else:
                progress.thinking_chars += len(delta)
                progress.thinking_weight += token_weight(delta)
                if on_thinking is not None:
                    on_thinking(delta)


def make_gemini_client(api_key: str, base_url: str | None) -> genai.Client:
    """The SDK client (no SDK retries: the turn retries before anything streamed)."""
    options = genai_types.HttpOptions(base_url=base_url) if base_url else None
    return genai.Client(api_key=api_key, http_options=options)

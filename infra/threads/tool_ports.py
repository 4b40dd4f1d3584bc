"""Adapters of the ports a tool receives (:mod:`actors.thread.tools.base`): the Claude API
through the worker's :class:`ClaudeClient` (the thread's files: :mod:`infra.files.thread_files`).

Failures are translated here into :class:`ToolFailure`, so a tool module never sees an SDK
or transport exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from actors.thread.tools.base import ModelReply, ToolFailure
from infra.threads.claude_client import ClaudeClient, ModelCallError, StreamProgress

_FAILURE_CLASSES = {
    "rate_limited": "rate_limited",
    "overloaded": "rate_limited",
    "timeout": "timeout",
    "invalid_request": "invalid_input",
    "prompt_too_long": "invalid_input",
}


class ClaudeModelPort:
    """:class:`~actors.thread.tools.base.ModelPort` on a streamed Messages call."""

    def __init__(self, claude: ClaudeClient) -> None:
        self._claude = claude

    async def create(
        self,
        request: Mapping[str, Any],
        *,
        on_text: Callable[[str], None] | None = None,
        on_thinking: Callable[[str], None] | None = None,
    ) -> ModelReply:
        try:
            result = await self._claude.stream(
                dict(request), StreamProgress(), on_text=on_text, on_thinking=on_thinking
            )
        except ModelCallError as exc:
            kind = _FAILURE_CLASSES.get(exc.failure.kind, "provider_error")
            raise ToolFailure(kind, f"the Claude API failed: {exc.failure.detail}") from exc
        return ModelReply(
            model=result.model or str(request.get("model", "")),
            content=result.content,
            text=result.text,
            stop_reason=result.stop_reason,
            usage=result.usage,
        )

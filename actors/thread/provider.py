"""The chat provider port of the thread actor: one streamed model call of a turn, whoever
serves the model (Claude or Gemini, see the model registry's ``provider``).

A turn builds one request shape (the Messages API's, :mod:`actors.thread.context`) and reads
one result shape (:class:`StepResult`: content blocks as Messages API JSON, a stop reason
among ``end_turn``, ``tool_use``, ``max_tokens``, ``pause_turn``, ``refusal``, and our
:class:`~events.usage.Usage`); each adapter translates at its boundary (Claude:
``infra/threads/claude_client.py``; Gemini: ``infra/threads/gemini_client.py`` with
:mod:`actors.thread.gemini_request`) and raises :class:`ModelCallError` for every failure.
What streamed so far (:class:`StreamProgress`) stays readable after a failure or a
cancellation, so the turn reports the usage actually consumed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from actors.thread.errors import ModelFailure
from actors.thread.tokens import token_weight
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
    thinking_weight: float = 0.0  # tokens of the thinking so far, estimated per script
    first_token_at: float | None = None
    last_token_at: float | None = None

    def partial_usage(self) -> Usage:
        """Input as the API reported at message_start; output estimated from what streamed
        (per script, on the safe side: :mod:`actors.thread.tokens`)."""
        if not self.started:
            return Usage()
        thinking = math.ceil(self.thinking_weight)
        output = math.ceil(token_weight(self.text) + self.thinking_weight)
        return Usage(
            input_tokens=self.start_usage.input_tokens,
            output_tokens=output,
            cache_creation_5m_input_tokens=self.start_usage.cache_creation_5m_input_tokens,
            cache_creation_1h_input_tokens=self.start_usage.cache_creation_1h_input_tokens,
            cache_read_input_tokens=self.start_usage.cache_read_input_tokens,
            thinking_tokens=thinking,
        )


@dataclass(frozen=True, slots=True)
class StepResult:
    api_message_id: str
    model: str
    text: str
    stop_reason: str
    usage: Usage
    content: list[dict[str, Any]]


class ChatProvider(Protocol):
    """One provider's streamed call (see the module docstring)."""

    async def stream(
        self,
        kwargs: dict[str, Any],
        progress: StreamProgress,
        *,
        on_text: Callable[[str], None] | None = None,
        on_thinking: Callable[[str], None] | None = None,
        on_request: Callable[[], None] | None = None,
        on_block: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> StepResult: ...

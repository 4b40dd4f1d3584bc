"""How hard the model thinks: the user's thinking level and what it means per model.

A user (``/thinking``) picks a level: ``off``, ``low``, ``medium``, ``high`` or ``max``.

* Models with adaptive thinking (Sonnet 4.6, Opus 4.6) get ``thinking: {"type":
  "adaptive"}`` and ``output_config.effort`` = the level: the model decides per request how
  much to think, and thinks between tool calls (interleaved) without a beta header.
* Models with budgeted thinking only (Haiku 4.5) get ``thinking: {"type": "enabled",
  "budget_tokens": N}`` with N from :data:`HAIKU_BUDGETS`; between tool calls this needs the
  ``interleaved-thinking`` beta, which the request builder adds when tools are offered.
  Such models are also offered the ``extended_thinking`` tool (a deeper one-off think).

``max_tokens`` grows with the level (thinking and answer share it) but stays far below the
context window, so a long conversation keeps its history: the API refuses a request whose
input plus ``max_tokens`` exceeds the window. Thinking tokens are part of ``output_tokens``
in the API's usage and are billed as output (see :mod:`actors.billing.pricing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

from actors.thread.models import model_spec

ThinkingLevel: TypeAlias = Literal["off", "low", "medium", "high", "max"]
THINKING_LEVELS: Final[tuple[ThinkingLevel, ...]] = ("off", "low", "medium", "high", "max")
DEFAULT_THINKING: Final[ThinkingLevel] = "off"
"""Until a user picks a level: answers start fast and cost no thinking tokens."""

INTERLEAVED_BETA: Final = "interleaved-thinking-2025-05-14"
ADAPTIVE_MAX_TOKENS: Final[dict[str, int]] = {
    "low": 16_000,
    "medium": 24_000,
    "high": 32_000,
    "max": 64_000,
}
"""max_tokens per level with adaptive thinking (thinking + answer), capped by the model."""
HAIKU_BUDGETS: Final[dict[str, int]] = {
    "low": 2_048,
    "medium": 6_000,
    "high": 16_000,
    "max": 32_000,
}
"""Thinking budget per level on models without adaptive thinking."""


def parse_level(text: str | None) -> ThinkingLevel | None:
    """``"high"``, ``" HIGH "``, ``"none"`` (= off) -> the level; anything else -> None."""
    word = (text or "").strip().lower()
    if word in ("none", "no", "disable", "disabled", "0"):
        word = "off"
    for known in THINKING_LEVELS:
        if word == known:
            return known
    return None


@dataclass(frozen=True, slots=True)
class ThinkingPlan:
    """What a level means for one model's request."""

    level: ThinkingLevel
    max_tokens: int
    params: dict[str, Any] = field(default_factory=dict)
    """Request fields to add: ``thinking`` and, with adaptive thinking, ``output_config``."""
    budget_tokens: int | None = None
    adaptive: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.params)

    def betas(self, *, with_tools: bool) -> tuple[str, ...]:
        """Beta headers the request needs (interleaved thinking on budgeted models)."""
        if self.enabled and not self.adaptive and with_tools:
            return (INTERLEAVED_BETA,)
        return ()


def plan_thinking(model: str, level: str | None) -> ThinkingPlan:
    """The request fields and ``max_tokens`` for ``model`` at ``level`` (None/unknown: off)."""
    spec = model_spec(model)
    chosen = parse_level(level) or "off"
    if chosen == "off" or not spec.supports_thinking:
        return ThinkingPlan("off", spec.default_answer_tokens)
    if spec.adaptive_thinking:
        effort = chosen if chosen != "max" or spec.max_effort else "high"
        max_tokens = min(spec.max_output_tokens, ADAPTIVE_MAX_TOKENS[effort])
        return ThinkingPlan(
            chosen,
            max_tokens,
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": effort}},
            adaptive=True,
        )
    budget = HAIKU_BUDGETS[chosen]
    max_tokens = min(spec.max_output_tokens, budget + spec.default_answer_tokens)
    return ThinkingPlan(
        chosen,
        max_tokens,
        {"thinking": {"type": "enabled", "budget_tokens": budget}},
        budget_tokens=budget,
    )


def offers_thinking_tool(model: str) -> bool:
    """``extended_thinking`` is offered where the main call cannot think adaptively."""
    return not model_spec(model).adaptive_thinking

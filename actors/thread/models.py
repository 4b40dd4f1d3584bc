"""The Claude models a thread can use: context window, output cap, what the user calls them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from events.usage import HAIKU, OPUS, SONNET


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    label: str
    context_window: int
    max_output_tokens: int
    default_answer_tokens: int
    supports_thinking: bool = True
    adaptive_thinking: bool = False
    """``thinking: {"type": "adaptive"}`` with ``output_config.effort``; interleaved with tools."""
    max_effort: bool = False
    """Accepts the effort level ``max``."""


MODELS: Final = {
    HAIKU: ModelSpec(HAIKU, "Haiku 4.5", 200_000, 64_000, 8_192),
    SONNET: ModelSpec(
        SONNET, "Sonnet 4.6", 200_000, 64_000, 8_192, adaptive_thinking=True, max_effort=True
    ),
    OPUS: ModelSpec(
        OPUS, "Opus 4.6", 200_000, 128_000, 8_192, adaptive_thinking=True, max_effort=True
    ),
}
DEFAULT_MODEL: Final = SONNET
TITLE_MODEL: Final = HAIKU
STRONGEST_MODEL: Final = OPUS
"""The reviewer of ``self_critique`` and the vision model of the analysis tools."""


def model_spec(model: str) -> ModelSpec:
    """The spec of a known model; an unknown id (a newer model) gets conservative limits."""
    found = MODELS.get(model)
    if found is not None:
        return found
    return ModelSpec(model, model, 200_000, 8_192, 8_192)

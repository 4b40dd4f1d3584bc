"""The model registry: every chat model the bot offers, in one place.

Per model: its API id, the label users see, the provider that serves it, its context window
and output cap, what it can do (thinking and how, client tools, the Claude server tools,
images, PDFs), the words ``/model`` accepts for it and the row of the versioned price table
(``actors/billing/pricing.py``) it is charged by. Prices themselves live only in that table;
the code default model is :data:`DEFAULT_MODEL` (the operator's ``DEFAULT_MODEL`` setting
overrides it). :data:`MODELS` is also the ``/model`` menu, in its order.

Facts (reference bot, ``reference-bot-tools.md`` "Models", as of 2026-05): Claude Haiku 4.5,
Sonnet 4.6 and Opus 4.6 have a 200k window and 64k / 64k / 128k output; Gemini 3.1
Flash-Lite, 3 Flash and 3.1 Pro a 1,048,576-token window and 65,536 output. Gemini 3 models
think by level (minimal/low/medium/high); Pro cannot stop thinking (``low`` at least).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from events.usage import ModelId

Provider: TypeAlias = Literal["anthropic", "google"]

HAIKU: Final = "claude-haiku-4-5-20251001"
SONNET: Final = "claude-sonnet-4-6"
OPUS: Final = "claude-opus-4-6"
GEMINI_FLASH_LITE: Final = "gemini-3.1-flash-lite"
GEMINI_FLASH: Final = "gemini-3-flash-preview"
GEMINI_PRO: Final = "gemini-3.1-pro-preview"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: ModelId
    label: str
    provider: Provider
    context_window: int
    max_output_tokens: int
    default_answer_tokens: int
    family: tuple[str, ...] = ()
    """Words of the id naming the model's family (``("sonnet",)``, ``("gemini", "flash",
    "lite")``): an unknown id with all of them is priced at that family's ceiling."""
    names: tuple[str, ...] = ()
    """What ``/model <name>`` accepts besides the id (lower case)."""
    supports_thinking: bool = True
    adaptive_thinking: bool = False
    """Claude: ``thinking: {"type": "adaptive"}`` with ``output_config.effort``, interleaved
    with tools; Gemini: ``thinking_level`` from the same effort."""
    max_effort: bool = False
    """Accepts the effort level ``max``."""
    min_thinking_level: str | None = None
    """Gemini: the level sent when the user's thinking is off (models that always think)."""
    tools: bool = True
    """Client tools (function calling) from the tool registry."""
    server_tools: bool = False
    """The Claude API's server tools (web search, web fetch)."""
    images: bool = True
    pdfs: bool = True
    price_row: ModelId | None = None
    """The price-table row charged for this model (``None``: the row named by its id)."""

    @property
    def price_id(self) -> ModelId:
        return self.price_row or self.id


_CLAUDE_WINDOW: Final = 200_000
_GEMINI_WINDOW: Final = 1_048_576
_GEMINI_OUTPUT: Final = 65_536

MODELS: Final[dict[ModelId, ModelSpec]] = {
    spec.id: spec
    for spec in (
        ModelSpec(
            HAIKU, "Claude Haiku 4.5", "anthropic", _CLAUDE_WINDOW, 64_000, 8_192,
            family=("haiku",), names=("haiku",), server_tools=True,
        ),
        ModelSpec(
            SONNET, "Claude Sonnet 4.6", "anthropic", _CLAUDE_WINDOW, 64_000, 8_192,
            family=("sonnet",), names=("sonnet",), adaptive_thinking=True, max_effort=True,
            server_tools=True,
        ),
        ModelSpec(
            OPUS, "Claude Opus 4.6", "anthropic", _CLAUDE_WINDOW, 128_000, 8_192,
            family=("opus",), names=("opus",), adaptive_thinking=True, max_effort=True,
            server_tools=True,
        ),
        ModelSpec(
            GEMINI_FLASH_LITE, "Gemini 3.1 Flash-Lite", "google", _GEMINI_WINDOW,
            _GEMINI_OUTPUT, 8_192, family=("gemini", "flash", "lite"),
            names=("flash-lite", "flashlite", "lite"), adaptive_thinking=True,
            min_thinking_level="minimal",
        ),
        ModelSpec(
            GEMINI_FLASH, "Gemini 3 Flash", "google", _GEMINI_WINDOW, _GEMINI_OUTPUT, 8_192,
            family=("gemini", "flash"), names=("flash",), adaptive_thinking=True,
            min_thinking_level="minimal",
        ),
        ModelSpec(
            GEMINI_PRO, "Gemini 3.1 Pro", "google", _GEMINI_WINDOW, _GEMINI_OUTPUT, 8_192,
            family=("gemini", "pro"), names=("pro",), adaptive_thinking=True,
            min_thinking_level="low",
        ),
    )
}  # fmt: skip
KNOWN_MODELS: Final = tuple(MODELS)
DEFAULT_MODEL: Final = SONNET
"""The code default; the ``DEFAULT_MODEL`` setting (infra/settings.py) overrides it."""
TITLE_MODEL: Final = HAIKU
STRONGEST_MODEL: Final = OPUS
"""The reviewer of ``self_critique`` and the vision model of the analysis tools."""
VISION_MODEL: Final = SONNET
"""What ``preview_file`` describes images and PDF pages with."""
FAMILIES: Final = tuple(
    sorted({spec.family for spec in MODELS.values() if spec.family}, key=len, reverse=True)
)
"""Every family, most specific first (``gemini-flash-lite`` before ``gemini-flash``)."""


def model_spec(model: ModelId) -> ModelSpec:
    """The spec of a known model; an unknown id (a newer model) gets conservative limits and
    the provider its name suggests."""
    found = MODELS.get(model)
    if found is not None:
        return found
    provider: Provider = "google" if model.lower().startswith("gemini") else "anthropic"
    return ModelSpec(
        model, model, provider, 200_000, 8_192, 8_192, server_tools=provider == "anthropic"
    )


def provider_of(model: ModelId) -> Provider:
    return model_spec(model).provider


def offered_models(providers: frozenset[Provider]) -> tuple[ModelId, ...]:
    """The ``/model`` menu when only ``providers`` are configured (Gemini models need a
    Google API key), in registry order."""
    return tuple(model for model, spec in MODELS.items() if spec.provider in providers)


def model_family(model: ModelId) -> str | None:
    """``sonnet`` for ``claude-sonnet-4-6-20260101``, ``gemini-flash-lite`` for
    ``gemini-3.1-flash-lite-preview-06-2026``: the most specific family whose words the id
    has, or ``None``."""
    parts = set(model.lower().split("-"))
    found = next((family for family in FAMILIES if set(family) <= parts), None)
    return "-".join(found) if found else None


def parse_model_name(text: str) -> ModelId | None:
    """``sonnet``, ``flash-lite``, ``Gemini 3 Flash`` or an API id -> the model, else None."""
    word = text.strip().lower()
    if not word:
        return None
    for spec in MODELS.values():
        if word in (spec.id, spec.label.lower(), *spec.names):
            return spec.id
    return None


def resolve_default(configured: ModelId | None) -> ModelId:
    """The operator's default model when it is a known one, else :data:`DEFAULT_MODEL`."""
    return configured if configured in MODELS else DEFAULT_MODEL

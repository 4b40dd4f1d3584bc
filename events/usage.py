"""Quantities consumed by model calls and tools. Events carry quantities; billing prices them.

Models are named by their API id (``claude-sonnet-4-6``, ``gemini-3-flash-preview``); the
model registry (``actors/thread/models.py``) lists them and billing's versioned price table
prices them, never events.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal, TypeAlias

from events.envelope import Payload

ModelId: TypeAlias = str
"""A model's API id (Claude or Gemini); open-ended on the wire so new models need no schema
change. The ids the bot offers are in the model registry, ``actors/thread/models.py``."""


class Usage(Payload, frozen=True, kw_only=True):
    """Token usage of one Claude API response, as the Messages API reports it.

    ``output_tokens`` already includes thinking tokens (billed as output);
    ``thinking_tokens`` is the informational part of it and must not be billed again.
    Cache writes are split by TTL because they are priced differently; an adapter that only
    gets the total puts it under 5 minutes (the API default).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_5m_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    thinking_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0

    @property
    def cache_creation_input_tokens(self) -> int:
        return self.cache_creation_5m_input_tokens + self.cache_creation_1h_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_5m_input_tokens=self.cache_creation_5m_input_tokens
            + other.cache_creation_5m_input_tokens,
            cache_creation_1h_input_tokens=self.cache_creation_1h_input_tokens
            + other.cache_creation_1h_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            thinking_tokens=self.thinking_tokens + other.thinking_tokens,
            web_search_requests=self.web_search_requests + other.web_search_requests,
            web_fetch_requests=self.web_fetch_requests + other.web_fetch_requests,
        )

    def is_zero(self) -> bool:
        return self == _ZERO_USAGE


_ZERO_USAGE: Final = Usage()


class ModelUsage(Payload, frozen=True, kw_only=True):
    """Usage of one Claude call made on the user's behalf (e.g. inside a tool)."""

    model: ModelId
    usage: Usage


ImageSizeClass: TypeAlias = Literal["512px", "1k", "2k", "4k"]


class ImageGeneration(Payload, frozen=True, kw_only=True):
    """Images generated in one call, by size class (priced per class)."""

    model: str
    size_class: ImageSizeClass
    count: int = 1


class ToolQuantities(Payload, frozen=True, kw_only=True):
    """What one tool call consumed, in the units it is priced in.

    ``model_calls`` holds the Claude calls a tool made itself (vision in analyze_image,
    the self_critique subagent, preview_file of an image); server-side web search and web
    fetch of the main call are in that call's :class:`Usage` instead.
    """

    whisper_seconds: Decimal = Decimal(0)
    sandbox_seconds: Decimal = Decimal(0)
    images: tuple[ImageGeneration, ...] = ()
    web_searches: int = 0
    web_fetches: int = 0
    model_calls: tuple[ModelUsage, ...] = ()

    def is_zero(self) -> bool:
        return self == _ZERO_TOOL_QUANTITIES


_ZERO_TOOL_QUANTITIES: Final = ToolQuantities()

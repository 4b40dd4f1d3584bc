"""Plausibility of the quantities a usage charge carries, checked before pricing.

The codec accepts any JSON number for a quantity: ``NaN``, ``Infinity``, ``sNaN``,
negative values, ``1e30``. Priced as-is they either raise out of ``decide`` (``quantize``
of an infinite or over-precise amount) or write a NaN or credit-giving debit. Each
function here returns why a quantity is not acceptable (``None`` when it is); the ledger
answers such a command with ``operation_rejected`` (``invalid_amount``), never an exception.

Bounds are far above anything real and low enough that every priced amount stays well
within the Decimal context's precision.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from events.usage import ToolQuantities, Usage

MAX_TOKENS: Final = 100_000_000
"""Per token field of one call (context windows are around 1M tokens)."""
MAX_USES: Final = 100_000
"""Web searches/fetches or images in one call."""
MAX_SECONDS: Final = Decimal(30 * 24 * 3600)
"""Whisper or sandbox seconds of one tool call (30 days)."""
MAX_MODEL_CALLS: Final = 10_000


def _int_problem(name: str, value: int, limit: int) -> str | None:
    if value < 0:
        return f"{name} must not be negative (got {value})"
    if value > limit:
        return f"{name} {value} exceeds the plausible maximum {limit}"
    return None


def _seconds_problem(name: str, value: Decimal) -> str | None:
    if not value.is_finite():
        return f"{name} must be a finite number (got {value})"
    if value.is_signed() and value != 0:
        return f"{name} must not be negative (got {value})"
    if value > MAX_SECONDS:
        return f"{name} {value} exceeds the plausible maximum {MAX_SECONDS}"
    return None


def usage_problem(usage: Usage, where: str = "usage") -> str | None:
    """Why ``usage`` cannot be priced, or ``None``."""
    for name in (
        "input_tokens",
        "output_tokens",
        "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens",
        "cache_read_input_tokens",
        "thinking_tokens",
    ):
        problem = _int_problem(f"{where}.{name}", getattr(usage, name), MAX_TOKENS)
        if problem:
            return problem
    for name in ("web_search_requests", "web_fetch_requests"):
        problem = _int_problem(f"{where}.{name}", getattr(usage, name), MAX_USES)
        if problem:
            return problem
    return None


def tool_quantities_problem(quantities: ToolQuantities) -> str | None:
    """Why ``quantities`` cannot be priced, or ``None``."""
    where = "tool_quantities"
    problem = _seconds_problem(f"{where}.whisper_seconds", quantities.whisper_seconds)
    problem = problem or _seconds_problem(f"{where}.sandbox_seconds", quantities.sandbox_seconds)
    problem = problem or _int_problem(f"{where}.web_searches", quantities.web_searches, MAX_USES)
    problem = problem or _int_problem(f"{where}.web_fetches", quantities.web_fetches, MAX_USES)
    if problem:
        return problem
    for image in quantities.images:
        problem = _int_problem(f"{where}.images.count", image.count, MAX_USES)
        if problem:
            return problem
    if len(quantities.model_calls) > MAX_MODEL_CALLS:
        return f"{where}.model_calls has more than {MAX_MODEL_CALLS} calls"
    for i, call in enumerate(quantities.model_calls):
        problem = usage_problem(call.usage, f"{where}.model_calls[{i}].usage")
        if problem:
            return problem
    return None


def charge_problem(usage: Usage | None, tool_quantities: ToolQuantities | None) -> str | None:
    """Why a usage charge with these quantities cannot be priced, or ``None``."""
    if usage is not None:
        problem = usage_problem(usage)
        if problem:
            return problem
    if tool_quantities is not None:
        return tool_quantities_problem(tool_quantities)
    return None

"""Tool calls of a turn (topic ``bot.thread.events``, key thread key).

Tool names (:data:`TOOL_NAMES`) are strings on the wire. ``quantities`` are what a call
consumed and ``billing_operation_id`` names the ``billing.usage_charge_requested`` whose
ledger entry holds the priced amount (the authoritative charge); ``cost_usd`` and
``price_version`` repeat that price for readers of the thread log (priced with the same table
at the same instant as the charge, so they agree with the ledger).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final, Literal

from events.envelope import Envelope
from events.ids import Id
from events.usage import ToolQuantities

TOOL_NAMES: Final = (
    "analyze_image",
    "analyze_pdf",
    "execute_python",
    "generate_image",
    "transcribe_audio",
    "extended_thinking",
    "self_critique",
    "web_search",
    "web_fetch",
    "render_latex",
    "preview_file",
    "deliver_file",
    "list_files",
    "estimate_cost",
)
SERVER_SIDE_TOOLS: Final = ("web_search", "web_fetch")
TOOL_ERROR_CLASSES: Final = (
    "insufficient_balance",
    "invalid_input",
    "timeout",
    "provider_error",
    "rate_limited",
    "cost_cap_reached",
    "not_found",
    "cancelled",
    "interrupted",
    "internal",
)


class ToolCallRequested(Envelope, tag="thread.tool_call_requested", frozen=True, kw_only=True):
    """Claude asked for a tool; ``server_side`` tools run inside the Claude API."""

    v: Literal[1] = 1
    turn_id: Id
    step: int
    user_id: int
    tool_use_id: str
    tool_name: str
    input: dict[str, Any]
    server_side: bool = False
    paid: bool = False
    attempt: int = 1
    """2 when a call interrupted by a crash is run again (tools whose rule allows it)."""


class ToolCallCompleted(Envelope, tag="thread.tool_call_completed", frozen=True, kw_only=True):
    """A tool returned; ``output`` is the (possibly truncated) text given back to Claude."""

    v: Literal[1] = 1
    turn_id: Id
    user_id: int
    tool_use_id: str
    tool_name: str
    output: str
    duration_ms: int
    quantities: ToolQuantities = ToolQuantities()
    file_ids: tuple[Id, ...] = ()
    sandbox_id: str | None = None
    billing_operation_id: str | None = None
    cost_usd: Decimal | None = None
    price_version: str | None = None


class ToolCallFailed(Envelope, tag="thread.tool_call_failed", frozen=True, kw_only=True):
    """A tool failed or was refused (paid tool with a negative balance).

    ``error_class`` is one of :data:`TOOL_ERROR_CLASSES`; ``quantities`` is what was
    consumed before the failure and is charged.
    """

    v: Literal[1] = 1
    turn_id: Id
    user_id: int
    tool_use_id: str
    tool_name: str
    error_class: str
    message: str
    duration_ms: int = 0
    quantities: ToolQuantities = ToolQuantities()
    billing_operation_id: str | None = None
    cost_usd: Decimal | None = None
    price_version: str | None = None

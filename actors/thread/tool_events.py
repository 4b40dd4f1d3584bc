"""Events and charges of tool calls, built from the running turn (pure).

Ids are derived from the turn's ``TurnStarted`` and the ``tool_use_id`` (unique per API
response), so a retried report carries the same ids: ``tool:{id}:requested:{attempt}`` and
``tool:{id}:done`` (one completion or failure per call, whatever the attempt). A call's
charge is ``usage:{event id}``, like a model step's; it is priced with the same table at the
same instant as the ledger will, so ``cost_usd`` in the event matches the ledger entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import msgspec

from actors.billing import operations
from actors.billing.policy import may_use_paid_tool
from actors.billing.pricing import PricingError, price
from actors.thread.decide import PRODUCER
from actors.thread.state import RunningTurn
from actors.thread.tool_calls import truncate_output, unfinished_calls
from actors.thread.tool_charges import tool_usage_charge
from actors.thread.tools.base import Tool
from events.billing import UsageChargeRequested
from events.envelope import caused_by, utc_now
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested
from events.usage import ToolQuantities

TOOL_CALL_SOURCE: Final = "tool_call"
REFUSED_HINT: Final = "Tell the user that /pay tops up the balance."


@dataclass(frozen=True, slots=True)
class Cost:
    usd: Decimal | None
    version: str | None


def tool_cost(quantities: ToolQuantities, at: datetime) -> Cost:
    """The price of a call's quantities at ``at`` (``None`` when nothing or unpriceable)."""
    if quantities.is_zero():
        return Cost(None, None)
    try:
        priced = price(at=at, tool_quantities=quantities)
    except PricingError:
        return Cost(None, None)  # billing rejects it as unpriced, visibly, in the ledger
    return Cost(priced.total, priced.version)


def paid_tool_refusal(tool: Tool, balance: Decimal | None) -> str | None:
    """Why a call of ``tool`` may not run at this balance (``None``: it may)."""
    if not tool.paid:
        return None
    verdict = may_use_paid_tool(balance)
    return None if verdict.allowed else f"{verdict.reason}. {REFUSED_HINT}"


def requested(
    running: RunningTurn,
    *,
    step: int,
    tool_use_id: str,
    tool_name: str,
    tool_input: Mapping[str, Any],
    tool: Tool | None,
    attempt: int = 1,
) -> ToolCallRequested:
    env = caused_by(
        running.started, producer=PRODUCER, label=f"tool:{tool_use_id}:requested:{attempt}"
    )
    return ToolCallRequested(
        **env,
        turn_id=running.turn_id,
        step=step,
        user_id=running.started.user_id,
        tool_use_id=tool_use_id,
        tool_name=tool_name,
        input=dict(tool_input),
        server_side=bool(tool and tool.server),
        paid=bool(tool and tool.paid),
        attempt=attempt,
    )


def _done_env(running: RunningTurn, tool_use_id: str, at: datetime) -> Any:
    return caused_by(
        running.started, producer=PRODUCER, label=f"tool:{tool_use_id}:done", occurred_at=at
    )


def completed(
    running: RunningTurn,
    *,
    tool_use_id: str,
    tool_name: str,
    output: str,
    duration_ms: int,
    quantities: ToolQuantities,
    at: datetime,
    file_ids: tuple[str, ...] = (),
    sandbox_id: str | None = None,
) -> ToolCallCompleted:
    env = _done_env(running, tool_use_id, at)
    cost = tool_cost(quantities, at)
    return ToolCallCompleted(
        **env,
        turn_id=running.turn_id,
        user_id=running.started.user_id,
        tool_use_id=tool_use_id,
        tool_name=tool_name,
        output=truncate_output(output),
        duration_ms=duration_ms,
        quantities=quantities,
        file_ids=file_ids,
        sandbox_id=sandbox_id,
        billing_operation_id=None if quantities.is_zero() else operations.usage(env["id"]),
        cost_usd=cost.usd,
        price_version=cost.version,
    )


def failed(
    running: RunningTurn,
    *,
    tool_use_id: str,
    tool_name: str,
    error_class: str,
    message: str,
    at: datetime,
    duration_ms: int = 0,
    quantities: ToolQuantities | None = None,
) -> ToolCallFailed:
    env = _done_env(running, tool_use_id, at)
    consumed = quantities or ToolQuantities()
    cost = tool_cost(consumed, at)
    return ToolCallFailed(
        **env,
        turn_id=running.turn_id,
        user_id=running.started.user_id,
        tool_use_id=tool_use_id,
        tool_name=tool_name,
        error_class=error_class,
        message=truncate_output(message),
        duration_ms=duration_ms,
        quantities=consumed,
        billing_operation_id=None if consumed.is_zero() else operations.usage(env["id"]),
        cost_usd=cost.usd,
        price_version=cost.version,
    )


def tool_charge(event: ToolCallCompleted | ToolCallFailed) -> UsageChargeRequested | None:
    """The billing command for what a call consumed (``None`` when nothing was)."""
    if event.billing_operation_id is None or event.quantities.is_zero():
        return None
    return tool_usage_charge(
        event,
        operation_id=event.billing_operation_id,
        source=TOOL_CALL_SOURCE,
        tool_name=event.tool_name,
        quantities=event.quantities,
    )


SERVER_RESULT_SUFFIX: Final = "_tool_result"
MAX_SERVER_SUMMARY: Final = 2_000


def _server_summary(content: Any) -> tuple[str, str | None]:
    """(what a server tool returned, in short; its error code, if it failed)."""
    if isinstance(content, Mapping):
        code = content.get("error_code")
        if code:
            return f"error: {code}", str(code)
        url = content.get("url")
        return (f"fetched {url}" if url else json.dumps(content, default=str)), None
    if isinstance(content, list):
        lines = [
            f"{item.get('title', '')} {item.get('url', '')}".strip()
            for item in content
            if isinstance(item, Mapping)
        ]
        return "\n".join(lines) or "(no results)", None
    return str(content), None


def server_tool_events(
    running: RunningTurn, *, step: int, content: Sequence[Mapping[str, Any]], at: datetime
) -> list[ToolCallRequested | ToolCallCompleted | ToolCallFailed]:
    """Records of the server tools (web search, web fetch) the API ran inside one model call:
    a request per ``server_tool_use`` block and an outcome per ``*_tool_result`` block.
    Their cost is in that call's usage (charged with the step), so they carry no charge; the
    quantities say what was used."""
    events: list[ToolCallRequested | ToolCallCompleted | ToolCallFailed] = []
    names: dict[str, str] = {}
    for block in content:
        kind = str(block.get("type", ""))
        if kind == "server_tool_use":
            tool_use_id, name = str(block.get("id", "")), str(block.get("name", ""))
            names[tool_use_id] = name
            raw = block.get("input")
            event = requested(
                running,
                step=step,
                tool_use_id=tool_use_id,
                tool_name=name,
                tool_input=raw if isinstance(raw, Mapping) else {},
                tool=None,
            )
            events.append(msgspec.structs.replace(event, server_side=True))
        elif kind.endswith(SERVER_RESULT_SUFFIX) and kind != "tool_result":
            tool_use_id = str(block.get("tool_use_id", ""))
            name = names.get(tool_use_id, kind.removesuffix(SERVER_RESULT_SUFFIX))
            summary, error = _server_summary(block.get("content"))
            used = ToolQuantities(
                web_searches=int(name == "web_search"), web_fetches=int(name == "web_fetch")
            )
            if error is not None:
                events.append(
                    failed(
                        running,
                        tool_use_id=tool_use_id,
                        tool_name=name,
                        error_class="provider_error",
                        message=summary,
                        at=at,
                    )
                )
                continue
            done = completed(
                running,
                tool_use_id=tool_use_id,
                tool_name=name,
                output=summary[:MAX_SERVER_SUMMARY],
                duration_ms=0,
                quantities=ToolQuantities(),
                at=at,
            )
            events.append(msgspec.structs.replace(done, quantities=used))
    return events


def interrupted_calls(running: RunningTurn) -> list[ToolCallFailed]:
    """``interrupted`` outcomes for the calls of a turn that ends without resuming them."""
    return [
        failed(
            running,
            tool_use_id=note.tool_use_id,
            tool_name=note.tool_name,
            error_class="interrupted",
            message="the turn was interrupted by a restart and ended without this call",
            at=utc_now(),
        )
        for note in unfinished_calls(running)
    ]

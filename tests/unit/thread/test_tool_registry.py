"""The tool registry and the estimate_cost tool (pure: no runtime, no ports used)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from actors.billing.pricing import price
from actors.thread.models import SONNET
from actors.thread.tools import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.catalog import BUILTIN_TOOLS, default_registry
from actors.thread.tools.estimate_cost import TOOL as ESTIMATE
from events.usage import Usage
from infra.files.thread_files import ScopedFiles


class _NoModel:
    async def create(self, request: Mapping[str, Any], **_: Any) -> Any:
        raise AssertionError("estimate_cost calls no model")


def _ctx(balance: Decimal | None = Decimal("1.00")) -> ToolContext:
    return ToolContext(
        thread_key="1",
        user_id=1,
        turn_id="t",
        tool_use_id="toolu_1",
        model=SONNET,
        history=(),
        files=(),
        claude=_NoModel(),
        file_store=ScopedFiles(None, None, "1", 1),
        balance=balance,
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )


async def _echo(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    return ToolResult(output=str(tool_input))


def test_definitions_keep_registration_order_and_refuse_duplicates() -> None:
    """The offered tools list is stable (cache prefix) and a name is registered once."""
    extra = Tool(name="echo", description="d", input_schema={"type": "object"}, run=_echo)
    registry = default_registry().with_tools(extra)
    assert registry.names() == (*[t.name for t in BUILTIN_TOOLS], "echo")
    assert registry.definitions()[-1] == {
        "name": "echo",
        "description": "d",
        "input_schema": {"type": "object"},
    }
    with pytest.raises(ValueError, match="already registered"):
        registry.register(extra)


def test_a_client_tool_needs_an_executor_and_a_server_tool_its_definition() -> None:
    """A tool declaration that cannot work is refused when it is built."""
    with pytest.raises(ValueError, match="executor"):
        Tool(name="x", description="d", input_schema={})
    with pytest.raises(ValueError, match="api_definition"):
        Tool(name="web_search", description="d", input_schema={}, server=True)
    server = Tool(
        name="web_search",
        description="",
        input_schema={},
        server=True,
        api_definition={"type": "web_search_20250305", "max_uses": 5},
    )
    assert server.definition() == {
        "name": "web_search",
        "type": "web_search_20250305",
        "max_uses": 5,
    }


async def test_estimate_cost_prices_through_the_price_table() -> None:
    """The estimate equals the price table's total for the same quantities."""
    assert ESTIMATE.run is not None
    result = await ESTIMATE.run({"input_tokens": 10_000, "output_tokens": 2_000}, _ctx())
    answer = json.loads(result.output)
    expected = price(
        at=datetime(2026, 6, 1, tzinfo=UTC),
        model=SONNET,
        usage=Usage(input_tokens=10_000, output_tokens=2_000),
    )
    assert answer["price_table"] == expected.version
    assert Decimal(answer["estimated_cost_usd"]) == expected.total
    assert answer["affordable"] is True
    assert result.quantities.is_zero()


async def test_estimate_cost_refuses_bad_input_with_a_reason() -> None:
    """Unknown models and negative counts fail as invalid_input, naming the problem."""
    assert ESTIMATE.run is not None
    with pytest.raises(ToolFailure, match="unknown model") as info:
        await ESTIMATE.run({"model": "gpt-9"}, _ctx())
    assert info.value.error_class == "invalid_input"
    with pytest.raises(ToolFailure, match="output_tokens"):
        await ESTIMATE.run({"output_tokens": -1}, _ctx())
    with pytest.raises(ToolFailure, match="size"):
        await ESTIMATE.run({"images": [{"size": "8k"}]}, _ctx())

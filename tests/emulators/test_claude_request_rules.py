"""Requests the real API refuses are refused by the emulator too (HTTP 400
invalid_request_error, the API's error body), seen through the real anthropic SDK."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import Message

from devkit.emulators.claude import ClaudeEmulator, text_reply, tool_loop, tool_reply

MODEL = "claude-sonnet-4-6"
THINKING = {"type": "enabled", "budget_tokens": 1024}
TOOL: dict[str, Any] = {
    "name": "calc",
    "description": "Evaluate.",
    "input_schema": {"type": "object", "properties": {"expr": {"type": "string"}}},
}


def sent_back(message: Message) -> list[dict[str, Any]]:
    return [b.model_dump(exclude_none=True) for b in message.content]


def answer(message: Message) -> dict[str, Any]:
    ids = [b.id for b in message.content if b.type == "tool_use"]
    return {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": i, "content": "1"} for i in ids],
    }


async def refused(client: AsyncAnthropic, match: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("max_tokens", 2048)
    with pytest.raises(anthropic.BadRequestError, match=match) as error:
        await client.messages.create(**kwargs)
    body = error.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["request_id"]
    return body


async def thinking_tool_step(client: AsyncAnthropic, emulator: ClaudeEmulator) -> Message:
    emulator.script(*tool_loop(tool_reply("calc", {"expr": "1"}, thinking="Let me think.")))
    return await client.messages.create(
        model=MODEL,
        max_tokens=2048,
        thinking=THINKING,  # type: ignore[arg-type]
        tools=[TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "q"}],
    )


async def test_tool_result_without_its_tool_use(anthropic_client: AsyncAnthropic) -> None:
    """A tool_result whose id is not a tool_use of the previous assistant message is 400."""
    await refused(
        anthropic_client,
        r"messages\.2\.content\.0: unexpected `tool_use_id` found in `tool_result` blocks: "
        r"toolu_other",
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "text", "text": "a"}]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_other", "content": "x"}],
            },
        ],
    )


async def test_tool_use_left_unanswered(anthropic_client: AsyncAnthropic) -> None:
    """tool_use ids without tool_result blocks in the next message are 400."""
    await refused(
        anthropic_client,
        r"messages\.1: `tool_use` ids were found without `tool_result` blocks immediately "
        r"after: toolu_b",
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_a", "name": "calc", "input": {}},
                    {"type": "tool_use", "id": "toolu_b", "name": "calc", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "x"}],
            },
        ],
    )


async def test_thinking_altered_in_a_tool_loop(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A thinking block sent back with changed text is 400; sent back unchanged it passes."""
    step = await thinking_tool_step(anthropic_client, claude_emulator)
    altered = sent_back(step)
    altered[0]["thinking"] = "I changed my mind."
    await refused(
        anthropic_client,
        r"messages\.1\.content\.0: `thinking` or `redacted_thinking` blocks in the latest "
        r"assistant message cannot be modified",
        thinking=THINKING,
        tools=[TOOL],
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": altered},
            answer(step),
        ],
    )
    claude_emulator.script(text_reply("ok"))
    fine = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=2048,
        thinking=THINKING,  # type: ignore[arg-type]
        tools=[TOOL],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": sent_back(step)},  # type: ignore[typeddict-item]
            answer(step),  # type: ignore[list-item]
        ],
    )
    assert fine.content[0].type == "text"


async def test_thinking_dropped_in_a_tool_loop(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """With thinking on, dropping the step's thinking before its tool_use is 400; with
    thinking off the same history is accepted."""
    step = await thinking_tool_step(anthropic_client, claude_emulator)
    dropped = [b for b in sent_back(step) if b["type"] != "thinking"]
    history = [{"role": "user", "content": "q"}, {"role": "assistant", "content": dropped}]
    await refused(
        anthropic_client,
        r"messages\.1\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found "
        r"`tool_use`",
        thinking=THINKING,
        tools=[TOOL],
        messages=[*history, answer(step)],
    )
    accepted = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=[TOOL],  # type: ignore[list-item]
        messages=[*history, answer(step)],  # type: ignore[list-item]
    )
    assert accepted.content


async def test_forged_signature(anthropic_client: AsyncAnthropic) -> None:
    """A thinking block the emulator never issued has an invalid signature."""
    await refused(
        anthropic_client,
        r"messages\.1\.content\.0: Invalid `signature` in `thinking` block",
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "made up", "signature": "forged"},
                    {"type": "text", "text": "a"},
                ],
            },
            {"role": "user", "content": "again"},
        ],
    )


@pytest.mark.parametrize(
    ("tool", "match"),
    [
        ({"name": "bad name!", "input_schema": {"type": "object"}}, r"tools\.0\.custom\.name"),
        ({"name": "t"}, r"tools\.0\.custom\.input_schema: Field required"),
        ({"name": "t", "input_schema": {"type": "array"}}, r"Input should be 'object'"),
        (
            {"name": "t", "input_schema": {"type": "object", "properties": {"x": {"type": "int"}}}},
            r"tools\.0\.custom\.input_schema: JSON schema is invalid",
        ),
        (
            {"name": "t", "input_schema": {"type": "object", "required": "x"}},
            r"JSON schema is invalid",
        ),
        ({"type": "web_search_20250305", "name": "search"}, r"Input should be 'web_search'"),
        ({"type": "mystery_tool", "name": "m"}, r"Input tag 'mystery_tool'"),
    ],
)
async def test_invalid_tools(
    anthropic_client: AsyncAnthropic, tool: dict[str, Any], match: str
) -> None:
    """Tools with a bad name, a missing or invalid input schema, or an unknown type are 400."""
    await refused(
        anthropic_client, match, tools=[tool], messages=[{"role": "user", "content": "q"}]
    )


async def test_duplicate_tool_names(anthropic_client: AsyncAnthropic) -> None:
    """Two tools of one name are 400."""
    await refused(
        anthropic_client,
        "Tool names must be unique",
        tools=[TOOL, TOOL],
        messages=[{"role": "user", "content": "q"}],
    )


async def test_cache_control_limits(anthropic_client: AsyncAnthropic) -> None:
    """Five breakpoints are 400, and so is a 1h breakpoint after a 5m one."""
    mark = {"type": "ephemeral"}
    blocks = [{"type": "text", "text": f"b{i}", "cache_control": mark} for i in range(5)]
    await refused(
        anthropic_client,
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        messages=[{"role": "user", "content": blocks}],
    )
    await refused(
        anthropic_client,
        r"messages\.0\.content\.0\.cache_control\.ttl: a ttl='1h' cache_control block must not "
        r"come after a ttl='5m' cache_control block",
        system=[{"type": "text", "text": "s", "cache_control": mark}],
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "u",
                        "cache_control": {"type": "ephemeral", "ttl": "1h"},
                    }
                ],
            }
        ],
    )


async def test_thinking_with_a_forced_tool(anthropic_client: AsyncAnthropic) -> None:
    """Thinking cannot be combined with a tool_choice that forces a tool."""
    await refused(
        anthropic_client,
        "Thinking may not be enabled when tool_choice forces tool use",
        thinking=THINKING,
        tools=[TOOL],
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "q"}],
    )


async def test_valid_tools_are_accepted(anthropic_client: AsyncAnthropic) -> None:
    """Custom tools with nested schemas and versioned server tools pass the checks."""
    nested = {
        "name": "plan",
        "input_schema": {
            "type": "object",
            "properties": {
                "steps": {"type": "array", "items": {"type": "string"}},
                "mode": {"enum": ["a", "b"]},
                "when": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["steps"],
            "additionalProperties": False,
        },
    }
    message = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=[
            nested,  # type: ignore[list-item]
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
            {"type": "web_fetch_20250910", "name": "web_fetch"},  # type: ignore[list-item]
            {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
        ],
        messages=[{"role": "user", "content": "q"}],
    )
    assert message.content

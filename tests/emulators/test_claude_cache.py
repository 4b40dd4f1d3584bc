"""The emulator's prompt cache through the real anthropic SDK: a conversation reads the
previous turn's prefix, the 20-block look-back, per-model minimums, 5-minute and 1-hour
lifetimes with the cache_creation split, and what invalidates a cached prefix."""

from __future__ import annotations

from typing import Any

from anthropic import AsyncAnthropic
from anthropic.types import Usage

from actors.thread.context import build_request
from actors.thread.state import HistoryItem, ThreadState
from devkit.emulators.claude import ClaudeEmulator, parallel_tools_reply, text_reply, tool_reply

SONNET = "claude-sonnet-4-6"
HAIKU = "claude-haiku-4-5-20251001"
MARK = {"type": "ephemeral"}
HOUR = {"type": "ephemeral", "ttl": "1h"}
SYSTEM_TEXT = "You are a careful assistant " * 200  # 5600 chars: 1400 tokens


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def conversation(turns: int, *, mark: dict[str, str] = MARK) -> list[dict[str, Any]]:
    """user/assistant turns, the last user message marked (as a client marks each turn)."""
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages.append(
            {"role": "user", "content": [{"type": "text", "text": f"question {i} " * 30}]}
        )
        if i < turns - 1:
            messages.append(
                {"role": "assistant", "content": [{"type": "text", "text": f"answer {i} " * 60}]}
            )
    messages[-1]["content"][-1]["cache_control"] = mark
    return messages


async def call(client: AsyncAnthropic, model: str = SONNET, **kwargs: Any) -> Usage:
    kwargs.setdefault("system", [{"type": "text", "text": SYSTEM_TEXT, "cache_control": MARK}])
    kwargs.setdefault("max_tokens", 2048)
    message = await client.messages.create(model=model, **kwargs)
    return message.usage


def total(usage: Usage) -> int:
    return (
        usage.input_tokens
        + (usage.cache_read_input_tokens or 0)
        + (usage.cache_creation_input_tokens or 0)
    )


async def test_each_turn_reads_the_previous_turns_prefix(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A conversation whose breakpoint moves to the newest message reads everything the
    previous turn wrote and writes only the new exchange (the markers are not hashed)."""
    first = await call(anthropic_client, messages=conversation(1))
    assert first.cache_read_input_tokens == 0
    assert first.cache_creation_input_tokens == total(first) - first.input_tokens
    assert first.input_tokens == 0 or first.input_tokens < 5
    previous_total = total(first)
    for turns in (2, 3, 4):
        usage = await call(anthropic_client, messages=conversation(turns))
        assert usage.cache_read_input_tokens == previous_total
        assert usage.cache_creation_input_tokens == total(usage) - previous_total
        previous_total = total(usage)
    counted = await anthropic_client.messages.count_tokens(
        model=SONNET,
        system=[{"type": "text", "text": SYSTEM_TEXT}],
        messages=conversation(4),  # type: ignore[arg-type]
    )
    assert counted.input_tokens == previous_total  # usage adds up to the whole prompt


async def test_look_back_reaches_twenty_blocks(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A breakpoint finds a prefix written up to 20 block boundaries before it, not 21."""
    base = [{"type": "text", "text": "base " * 50, "cache_control": MARK}]
    await call(anthropic_client, messages=[{"role": "user", "content": base}])
    near = [{"type": "text", "text": "base " * 50}] + [
        {"type": "text", "text": f"extra {i}"} for i in range(19)
    ]
    near[-1]["cache_control"] = MARK  # 19 blocks later: within the window
    usage = await call(anthropic_client, messages=[{"role": "user", "content": near}])
    assert usage.cache_read_input_tokens == 1400 + 63
    claude_emulator.cache.entries.clear()
    await call(anthropic_client, messages=[{"role": "user", "content": base}])
    far = [{"type": "text", "text": "base " * 50}] + [
        {"type": "text", "text": f"extra {i}"} for i in range(20)
    ]
    far[-1]["cache_control"] = MARK  # 20 blocks later: the system prompt is all it finds
    usage = await call(anthropic_client, messages=[{"role": "user", "content": far}])
    assert usage.cache_read_input_tokens == 1400


async def test_minimum_cacheable_length_per_model(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """1400 tokens are cached for Sonnet 4.6 (minimum 1024) but not Haiku 4.5 (4096)."""
    messages = [{"role": "user", "content": "hi"}]
    sonnet = await call(anthropic_client, SONNET, messages=messages)
    haiku = await call(anthropic_client, HAIKU, messages=messages)
    assert sonnet.cache_creation_input_tokens == 1400
    assert haiku.cache_creation_input_tokens == 0
    assert haiku.input_tokens == 1401


async def test_lifetimes_and_the_creation_split(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """5-minute entries lapse after 5 idle minutes, 1-hour ones live an hour; a read
    refreshes; usage splits creation into ephemeral_5m / ephemeral_1h."""
    clock = Clock()
    claude_emulator.clock = clock
    hour_system = [{"type": "text", "text": SYSTEM_TEXT, "cache_control": HOUR}]
    messages = conversation(1)
    usage = await call(anthropic_client, system=hour_system, messages=messages)
    assert usage.cache_creation is not None
    assert usage.cache_creation.ephemeral_1h_input_tokens == 1400
    assert usage.cache_creation.ephemeral_5m_input_tokens == total(usage) - 1400
    clock.now += 240
    usage = await call(anthropic_client, system=hour_system, messages=messages)
    assert usage.cache_read_input_tokens == total(usage)  # all of it, 4 minutes on
    clock.now += 299  # 4 min 59 s after the read, which refreshed the 5-minute entry
    usage = await call(anthropic_client, system=hour_system, messages=messages)
    assert usage.cache_read_input_tokens == total(usage)
    clock.now += 301
    usage = await call(anthropic_client, system=hour_system, messages=messages)
    assert usage.cache_read_input_tokens == 1400  # the 1-hour system prompt only
    assert usage.cache_creation is not None
    assert usage.cache_creation.ephemeral_5m_input_tokens == total(usage) - 1400
    clock.now += 3601
    usage = await call(anthropic_client, system=hour_system, messages=messages)
    assert usage.cache_read_input_tokens == 0


async def test_what_invalidates_a_cached_prefix(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """Another model reads nothing; a changed thinking setting keeps the system prompt but
    not the messages; a changed system prompt loses everything after it."""
    messages = conversation(2)
    written = await call(anthropic_client, messages=messages)
    assert written.cache_read_input_tokens == 0
    claude_emulator.script(text_reply("x", model="claude-opus-4-6"))
    other = await call(anthropic_client, "claude-opus-4-6", messages=messages)
    assert other.cache_read_input_tokens == 0
    thinking = await call(
        anthropic_client, messages=messages, thinking={"type": "enabled", "budget_tokens": 1024}
    )
    assert thinking.cache_read_input_tokens == 1400
    changed = [{"type": "text", "text": SYSTEM_TEXT + "!", "cache_control": MARK}]
    system = await call(anthropic_client, system=changed, messages=messages)
    assert system.cache_read_input_tokens == 0
    again = await call(anthropic_client, messages=messages)
    assert again.cache_read_input_tokens == total(again)


async def test_request_builder_steps_read_what_the_previous_step_wrote(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """Through build_request and step_kwargs: a tool step adding more than 20 blocks still
    reads up to the turn's input (the anchor breakpoint); a small step reads the whole
    previous request; the next turn reads the last step's input prefix."""
    tools = [
        {"name": "calc", "description": "Evaluate. " * 100, "input_schema": {"type": "object"}}
    ]
    history = (
        HistoryItem(role="user", text="first question " * 200, message_ids=(1,)),
        HistoryItem(role="assistant", text="first answer " * 200),
        HistoryItem(role="user", text="second question", message_ids=(2,)),
    )
    request = build_request(
        ThreadState(key="1:0", history=history), model=SONNET, personality=None, tools=tools
    )
    claude_emulator.script_loop(
        parallel_tools_reply([("calc", {"x": i}) for i in range(12)]),
        tool_reply("calc", {"x": 99}),
        text_reply("done"),
    )
    first = await anthropic_client.messages.create(**request.kwargs)
    steps: list[dict[str, Any]] = []

    def add_step(message: Any) -> None:
        content = [b.model_dump(exclude_none=True) for b in message.content]
        results = [
            {"type": "tool_result", "tool_use_id": b.id, "content": "ok"}
            for b in message.content
            if b.type == "tool_use"
        ]
        steps.append({"role": "assistant", "content": content})
        steps.append({"role": "user", "content": results})

    add_step(first)
    second = await anthropic_client.messages.create(**request.step_kwargs(steps))
    assert second.usage.cache_read_input_tokens == total(first.usage)  # 24 blocks: the anchor
    add_step(second)
    third = await anthropic_client.messages.create(**request.step_kwargs(steps))
    assert third.usage.cache_read_input_tokens == total(second.usage)  # the whole step before

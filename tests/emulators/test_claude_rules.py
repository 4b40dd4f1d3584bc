"""Pure rules of the Claude emulator: token estimates, default replies, caching, SSE framing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from devkit.emulators.claude import Reply, TextBlock, ThinkingBlock, ToolUseBlock, default_reply
from devkit.emulators.claude.compose import compose_message, stream_events
from devkit.emulators.claude.rules import (
    CacheOutcome,
    PromptCache,
    estimate_tokens,
    request_kind,
    request_tokens,
    turn_text,
)


def _compose(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    counter = iter(range(1, 1000))
    return compose_message(
        reply,
        body,
        message_id="msg_1",
        new_id=lambda prefix: f"{prefix}{next(counter)}",
        input_estimate=request_tokens(body),
        cache=CacheOutcome(),
    )


def test_estimates_count_text_and_images() -> None:
    """About four characters per token; an image counts a flat 1600 tokens."""
    assert estimate_tokens("abcd" * 10) == 10
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "A" * 99999},
    }
    assert estimate_tokens([image]) == 1600
    body = {"system": "abcd", "messages": [{"role": "user", "content": "abcdabcd"}], "tools": []}
    assert request_tokens(body) == 3


def test_default_reply_rules() -> None:
    """Echo by default; 'use tool' makes a tool_use; thinking enabled prepends thinking."""
    echo = default_reply({"messages": [{"role": "user", "content": "hi"}]})
    assert echo.content == [TextBlock(text="hi")]
    tool = default_reply({"messages": [{"role": "user", "content": 'use tool calc {"x": 2}'}]})
    assert tool.content == [ToolUseBlock(name="calc", input={"x": 2})]
    thinking = default_reply(
        {
            "thinking": {"type": "enabled", "budget_tokens": 2000},
            "messages": [{"role": "user", "content": "q"}],
        }
    )
    assert isinstance(thinking.content[0], ThinkingBlock)


def test_prompt_cache_ttl() -> None:
    """A cached prefix is read within its TTL (5 min default, 1 h on request), then rewritten."""
    cache = PromptCache(minimum_tokens=10)
    body = {
        "model": "m",
        "system": [{"type": "text", "text": "x" * 100, "cache_control": {"type": "ephemeral"}}],
        "messages": [],
    }
    assert cache.apply(body, 0.0).creation_5m == 25
    assert cache.apply(body, 200.0).read == 25
    assert cache.apply(body, 600.0).creation_5m == 25  # expired after 5 minutes of no use
    hour = {
        "model": "m",
        "system": [
            {"type": "text", "text": "y" * 100, "cache_control": {"type": "ephemeral", "ttl": "1h"}}
        ],
        "messages": [],
    }
    assert cache.apply(hour, 0.0).creation_1h == 25
    assert cache.apply(hour, 3000.0).read == 25


def test_compose_defaults_stop_reason_and_ids() -> None:
    """stop_reason follows the content; tool ids are generated; usage is filled in."""
    body = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "abcd"}]}
    message = _compose(Reply(content=[TextBlock(text="ok"), ToolUseBlock(name="t")]), body)
    assert message["stop_reason"] == "tool_use"
    assert message["content"][1]["id"] == "toolu_1"
    assert message["usage"]["input_tokens"] == 1
    assert message["usage"]["output_tokens"] >= 1


@given(
    text=st.text(max_size=300),
    thinking=st.text(min_size=1, max_size=100),
    tool_input=st.dictionaries(
        st.text(max_size=5), st.integers() | st.text(max_size=20), max_size=5
    ),
    chunk=st.integers(min_value=0, max_value=50),
)
def test_stream_deltas_reassemble_the_message(
    text: str, thinking: str, tool_input: dict[str, Any], chunk: int
) -> None:
    """Concatenating the deltas of each block gives back exactly the block of the message."""
    body = {"model": "m", "max_tokens": 100_000, "messages": [{"role": "user", "content": "q"}]}
    reply = Reply(
        content=[
            ThinkingBlock(thinking=thinking),
            TextBlock(text=text),
            ToolUseBlock(name="t", input=tool_input),
        ]
    )
    message = _compose(reply, body)
    pieces: dict[int, str] = {}
    signature = ""
    names = []
    for name, data in stream_events(message, chunk):
        names.append(name)
        if name == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "signature_delta":
                signature = delta["signature"]
            else:
                key = {
                    "text_delta": "text",
                    "thinking_delta": "thinking",
                    "input_json_delta": "partial_json",
                }[delta["type"]]
                pieces[data["index"]] = pieces.get(data["index"], "") + delta[key]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert pieces.get(0, "") == message["content"][0]["thinking"]
    assert signature == message["content"][0]["signature"]
    assert pieces.get(1, "") == message["content"][1]["text"]
    assert json.loads(pieces[2]) == tool_input


@given(
    texts=st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=30),
    marks=st.sets(st.integers(min_value=0, max_value=29), max_size=4),
    minimum=st.sampled_from([1, 50, 1024]),
)
def test_cache_usage_adds_up_and_a_repeat_reads_its_prefix(
    texts: list[str], marks: set[int], minimum: int
) -> None:
    """read + creation + input is the whole prompt; the same request again reads everything
    up to its last breakpoint written, and writes nothing."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": t} for t in texts]
    for mark in marks:
        if mark < len(blocks):
            blocks[mark]["cache_control"] = {"type": "ephemeral"}
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": blocks}]}
    cache = PromptCache(minimum_tokens=minimum)
    first = cache.apply(body, 0.0)
    second = cache.apply(body, 1.0)
    whole = request_tokens(body)
    for outcome in (first, second):
        message = _compose_cached(Reply(content=[TextBlock(text="ok")]), body, outcome)
        usage = message["usage"]
        assert (
            usage["input_tokens"]
            + usage["cache_read_input_tokens"]
            + usage["cache_creation_input_tokens"]
            == whole
        )
    assert second.creation == 0
    assert second.read == first.read + first.creation


def _compose_cached(reply: Reply, body: dict[str, Any], cache: CacheOutcome) -> dict[str, Any]:
    return compose_message(
        reply,
        body,
        message_id="msg_1",
        new_id=lambda prefix: f"{prefix}1",
        input_estimate=request_tokens(body),
        cache=cache,
    )


def test_request_kind_and_turn_text() -> None:
    """A request answers the user, tool results or a paused answer; the turn's text is the
    input that started it, even when tool results (with a note) come after."""
    user = {"role": "user", "content": "find kiwis"}
    use = {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "s"}]}
    results = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "t", "content": "r"},
            {"type": "text", "text": "(note from the runtime)"},
        ],
    }
    assert request_kind({"messages": [user]}) == "user"
    assert request_kind({"messages": [user, use, results]}) == "tool_result"
    assert request_kind({"messages": [user, use]}) == "continuation"
    assert turn_text({"messages": [user, use, results]}) == "find kiwis"

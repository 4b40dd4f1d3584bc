"""Scripted multi-step tool loops through the real anthropic SDK: tool_use, parallel calls,
server tools with their results and citations, pause_turn and its continuation, thinking
(signed and redacted) sent back unchanged, and the matchers that bind a loop to its turn."""

from __future__ import annotations

from typing import Any

import aiohttp
from anthropic import AsyncAnthropic
from anthropic.types import Message

from devkit.emulators.claude import (
    ClaudeEmulator,
    RedactedThinkingBlock,
    Reply,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    WebSearchResult,
    WebSearchToolResultBlock,
    parallel_tools_reply,
    pause_reply,
    text_reply,
    tool_reply,
    web_fetch_reply,
    web_search_reply,
)

MODEL = "claude-sonnet-4-6"
TOOLS: list[dict[str, Any]] = [
    {
        "name": "calc",
        "description": "Evaluate an arithmetic expression.",
        "input_schema": {"type": "object", "properties": {"expr": {"type": "string"}}},
    }
]
THINKING = {"type": "enabled", "budget_tokens": 1024}


def blocks_of(message: Message) -> list[dict[str, Any]]:
    """The assistant content as the client sends it back (SDK models to request params)."""
    return [b.model_dump(exclude_none=True) for b in message.content]


def results_for(message: Message, answer: str = "42") -> dict[str, Any]:
    return {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": b.id, "content": answer}
            for b in message.content
            if b.type == "tool_use"
        ],
    }


async def test_tool_loop_steps_in_order_with_thinking_sent_back(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A scripted loop answers the input, then each tool-result step, in order; the signed
    thinking of each step goes back unchanged and is accepted."""
    claude_emulator.script_loop(
        tool_reply("calc", {"expr": "6*7"}, thinking="I need to compute."),
        parallel_tools_reply(
            [("calc", {"expr": "1+1"}), ("calc", {"expr": "2+2"})], thinking="Two more."
        ),
        Reply(content=[ThinkingBlock(thinking="Done."), TextBlock(text="It is 42.")]),
        contains="compute",
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": "please compute"}]
    stops = []
    for _ in range(3):
        async with anthropic_client.messages.stream(
            model=MODEL, max_tokens=4096, thinking=THINKING, tools=TOOLS, messages=messages
        ) as stream:
            message = await stream.get_final_message()
        stops.append(message.stop_reason)
        if message.stop_reason != "tool_use":
            break
        messages += [{"role": "assistant", "content": blocks_of(message)}, results_for(message)]
    assert stops == ["tool_use", "tool_use", "end_turn"]
    assert message.content[-1].type == "text"
    assert message.content[-1].text == "It is 42."
    second = claude_emulator.message_requests()[-1].body["messages"]
    assert [len(m["content"]) for m in second[1:]] == [2, 1, 3, 2]  # thinking+tool, 2 results
    assert claude_emulator.scripts == []


async def test_loop_steps_are_not_taken_by_other_requests(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A title request (no tool results) and another thread do not consume a loop's steps."""
    claude_emulator.script_loop(
        tool_reply("calc", {"expr": "1"}), text_reply("final"), contains="loop me"
    )
    first = await anthropic_client.messages.create(
        model=MODEL, max_tokens=100, tools=TOOLS, messages=[{"role": "user", "content": "loop me"}]
    )
    title = await anthropic_client.messages.create(
        model="claude-haiku-4-5-20251001",
        max_tokens=20,
        messages=[{"role": "user", "content": "Title for: loop me"}],
    )
    other = await anthropic_client.messages.create(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "unrelated"}]
    )
    second = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=TOOLS,
        messages=[
            {"role": "user", "content": "loop me"},
            {"role": "assistant", "content": blocks_of(first)},
            results_for(first),
        ],
    )
    assert first.stop_reason == "tool_use"
    assert title.content[0].type == "text"
    assert title.content[0].text == "Title for: loop me"  # default echo, not a loop step
    assert other.content[0].type == "text"
    assert other.content[0].text == "unrelated"
    assert second.content[0].type == "text"
    assert second.content[0].text == "final"


async def test_web_search_with_citations_streams_like_the_api(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """server_tool_use -> web_search_tool_result -> text with web_search_result_location
    citations (citations_delta events); usage counts the search."""
    results = [WebSearchResult(url="https://w.example/rain", title="Rain today")]
    claude_emulator.script(web_search_reply("weather", results, "It will rain."))
    async with anthropic_client.messages.stream(
        model=MODEL,
        max_tokens=500,
        tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        messages=[{"role": "user", "content": "weather?"}],
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    use, result, text = final.content
    assert use.type == "server_tool_use"
    assert result.type == "web_search_tool_result"
    assert result.tool_use_id == use.id
    assert text.type == "text"
    assert text.citations is not None
    citation = text.citations[0]
    assert citation.type == "web_search_result_location"
    assert (citation.url, citation.title) == ("https://w.example/rain", "Rain today")
    assert "citation" in kinds
    assert final.usage.server_tool_use is not None
    assert final.usage.server_tool_use.web_search_requests == 1


async def test_web_fetch_result_and_char_citations(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """web_fetch answers a web_fetch_tool_result with the page as a document; the text cites
    it by char_location; an error result carries its error_code."""
    claude_emulator.script(
        web_fetch_reply("https://a.example", "Page body text.", "The page says hi.", title="A")
    )
    message = await anthropic_client.messages.create(
        model=MODEL, max_tokens=500, messages=[{"role": "user", "content": "read a.example"}]
    )
    use, result, text = message.content
    assert use.type == "server_tool_use"
    assert use.name == "web_fetch"
    assert result.type == "web_fetch_tool_result"
    assert result.tool_use_id == use.id
    assert result.content.type == "web_fetch_result"
    assert result.content.content.source.data == "Page body text."  # type: ignore[union-attr]
    assert text.type == "text"
    assert text.citations is not None
    assert text.citations[0].type == "char_location"
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_fetch_requests == 1


async def test_pause_turn_and_its_continuation(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """pause_turn: the client sends the paused content back as the last message; the
    continuation's search result answers the paused server_tool_use."""
    claude_emulator.script_loop(
        pause_reply("web_search", {"query": "news"}),
        Reply(
            content=[
                WebSearchToolResultBlock(
                    results=[WebSearchResult(url="https://n.example", title="N")]
                ),
                TextBlock(text="Here is the news."),
            ]
        ),
        contains="news",
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": "any news?"}]
    paused = await anthropic_client.messages.create(model=MODEL, max_tokens=500, messages=messages)
    assert paused.stop_reason == "pause_turn"
    messages.append({"role": "assistant", "content": blocks_of(paused)})
    resumed = await anthropic_client.messages.create(model=MODEL, max_tokens=500, messages=messages)
    result, text = resumed.content
    assert result.type == "web_search_tool_result"
    assert result.tool_use_id == paused.content[0].id  # type: ignore[union-attr]
    assert text.type == "text"
    assert resumed.stop_reason == "end_turn"
    messages += [{"role": "assistant", "content": blocks_of(resumed)}]
    messages.append({"role": "user", "content": "thanks"})
    after = await anthropic_client.messages.create(model=MODEL, max_tokens=500, messages=messages)
    assert after.content[0].type == "text"  # the paused answer and its continuation are one


async def test_redacted_thinking_round_trip(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """redacted_thinking comes with opaque data, which is accepted back unchanged."""
    claude_emulator.script_loop(
        Reply(
            content=[
                RedactedThinkingBlock(),
                ThinkingBlock(thinking="ok"),
                ToolUseBlock(name="calc", input={"expr": "1"}),
            ]
        ),
        text_reply("done"),
        contains="redact",
    )
    messages: list[dict[str, Any]] = [{"role": "user", "content": "redact"}]
    first = await anthropic_client.messages.create(
        model=MODEL, max_tokens=4096, thinking=THINKING, tools=TOOLS, messages=messages
    )
    assert first.content[0].type == "redacted_thinking"
    assert first.content[0].data
    messages += [{"role": "assistant", "content": blocks_of(first)}, results_for(first)]
    done = await anthropic_client.messages.create(
        model=MODEL, max_tokens=4096, thinking=THINKING, tools=TOOLS, messages=messages
    )
    assert done.content[0].type == "text"


async def test_loop_scripted_over_http(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """POST /_control/replies with "loop" binds the steps to the turn like script_loop."""
    steps = [
        {"content": [{"type": "tool_use", "name": "calc", "input": {"expr": "2"}}]},
        {"content": [{"type": "text", "text": "two"}]},
    ]
    async with aiohttp.ClientSession(base_url=claude_emulator.base_url) as http:
        async with http.post(
            "/_control/replies", json={"replies": steps, "loop": {"contains": "http loop"}}
        ) as resp:
            assert resp.status == 200
        async with http.get("/_control/replies") as resp:
            listed = (await resp.json())["replies"]
    assert [r["answers"] for r in listed] == ["user", "tool_result"]
    assert {r["contains"] for r in listed} == {"http loop"}
    messages: list[dict[str, Any]] = [{"role": "user", "content": "http loop"}]
    first = await anthropic_client.messages.create(
        model=MODEL, max_tokens=100, tools=TOOLS, messages=messages
    )
    messages += [{"role": "assistant", "content": blocks_of(first)}, results_for(first)]
    second = await anthropic_client.messages.create(
        model=MODEL, max_tokens=100, tools=TOOLS, messages=messages
    )
    assert second.content[0].type == "text"
    assert second.content[0].text == "two"


async def test_searches_beyond_max_uses_are_refused_and_not_counted(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A third search with max_uses 2 gets a max_uses_exceeded result; usage counts two."""
    found = [WebSearchResult(url="https://r.example", title="R")]
    blocks: list[Any] = []
    for query in ("a", "b", "c"):
        blocks += [
            ServerToolUseBlock(name="web_search", input={"query": query}),
            WebSearchToolResultBlock(results=found),
        ]
    claude_emulator.script(Reply(content=[*blocks, TextBlock(text="Found.")]))
    message = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=500,
        tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
        messages=[{"role": "user", "content": "search thrice"}],
    )
    results = [b for b in message.content if b.type == "web_search_tool_result"]
    assert [isinstance(r.content, list) for r in results] == [True, True, False]
    assert results[2].content.error_code == "max_uses_exceeded"  # type: ignore[union-attr]
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 2

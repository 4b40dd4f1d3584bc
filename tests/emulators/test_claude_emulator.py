"""The Claude emulator driven by the real anthropic SDK: Messages (JSON and SSE), failures,
token counting, Files API, and what the emulator records."""

from __future__ import annotations

import time
from datetime import timedelta

import anthropic
import httpx2
import pytest
from anthropic import AsyncAnthropic

from devkit.emulators.claude import (
    ClaudeEmulator,
    HttpError,
    Overloaded,
    PromptTooLong,
    RateLimited,
    Reply,
    ServerToolUseBlock,
    StreamBreak,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
    WebSearchResult,
    WebSearchToolResultBlock,
    text_reply,
)
from devkit.emulators.testing import make_anthropic

MODEL = "claude-sonnet-4-6"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_default_echo_and_recorded_request(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """Without a script the reply echoes the last user text; the request is recorded."""
    message = await anthropic_client.messages.create(
        model=MODEL, max_tokens=100, system="Be brief.", messages=user("hello there, emulator")
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "hello there, emulator"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 8  # ceil(len("Be brief." + text) / 4)
    assert message.usage.output_tokens == 6
    recorded = claude_emulator.last_message_request()
    assert recorded.body["system"] == "Be brief."
    assert recorded.headers["anthropic-version"]
    assert recorded.headers.get("x-api-key") or recorded.headers.get("authorization")


async def test_streaming_text_event_sequence(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A stream sends message_start, block start/deltas/stop, message_delta, message_stop."""
    claude_emulator.script(text_reply("The quick brown fox jumps over the lazy dog."))
    async with anthropic_client.messages.stream(
        model=MODEL, max_tokens=200, messages=user("q")
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("text") >= 3  # split into several text deltas
    assert final.content[0].type == "text"
    assert final.content[0].text == "The quick brown fox jumps over the lazy dog."
    assert final.stop_reason == "end_turn"


async def test_raw_stream_events_parse_as_sdk_types(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """Raw SSE events of every block kind validate as the SDK's RawMessageStreamEvent types."""
    claude_emulator.script(
        Reply(
            content=[
                ThinkingBlock(thinking="Let me search."),
                ServerToolUseBlock(name="web_search", input={"query": "weather"}),
                WebSearchToolResultBlock(
                    results=[WebSearchResult(url="https://w.example", title="W")]
                ),
                TextBlock(text="Sunny."),
                ToolUseBlock(name="render_latex", input={"source": "x^2"}),
            ],
            usage=Usage(cache_creation_input_tokens=100, cache_read_input_tokens=2000),
        )
    )
    stream = await anthropic_client.messages.create(
        model=MODEL, max_tokens=500, messages=user("q"), stream=True
    )
    events = [event async for event in stream]
    types = [type(e).__name__ for e in events]
    assert types[0] == "RawMessageStartEvent"
    assert types[-1] == "RawMessageStopEvent"
    starts = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert starts == ["thinking", "server_tool_use", "web_search_tool_result", "text", "tool_use"]
    deltas = {e.delta.type for e in events if e.type == "content_block_delta"}
    assert deltas == {"thinking_delta", "signature_delta", "input_json_delta", "text_delta"}
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.delta.stop_reason == "tool_use"
    assert delta.usage.cache_read_input_tokens == 2000
    assert delta.usage.cache_creation_input_tokens == 100
    assert delta.usage.server_tool_use is not None
    assert delta.usage.server_tool_use.web_search_requests == 1


async def test_stream_accumulates_tools_thinking_and_search(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """The SDK's MessageStream rebuilds thinking+signature, tool inputs and search results."""
    claude_emulator.script(
        Reply(
            content=[
                ThinkingBlock(thinking="I should compute this.", signature="sig-1"),
                ServerToolUseBlock(input={"query": "pi digits"}),
                WebSearchToolResultBlock(
                    results=[WebSearchResult(url="https://pi.example", title="Pi")]
                ),
                ToolUseBlock(
                    name="execute_python", input={"code": "print(3.14159)", "pip": ["numpy"]}
                ),
            ]
        )
    )
    async with anthropic_client.messages.stream(
        model=MODEL, max_tokens=500, messages=user("pi?")
    ) as stream:
        final = await stream.get_final_message()
    thinking, server_tool, search, tool = final.content
    assert thinking.type == "thinking"
    assert (thinking.thinking, thinking.signature) == ("I should compute this.", "sig-1")
    assert server_tool.type == "server_tool_use"
    assert server_tool.input == {"query": "pi digits"}
    assert search.type == "web_search_tool_result"
    assert search.tool_use_id == server_tool.id
    assert tool.type == "tool_use"
    assert tool.input == {"code": "print(3.14159)", "pip": ["numpy"]}
    assert final.stop_reason == "tool_use"


async def test_default_tool_rule_and_thinking(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """ "use tool NAME {json}" yields a tool_use; thinking enabled adds a signed thinking block;
    a tool_result turn is answered with its content."""
    message = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=user('please use tool generate_image {"prompt": "a cat", "size": "1K"}'),
    )
    thinking, tool = message.content
    assert thinking.type == "thinking"
    assert thinking.signature
    assert tool.type == "tool_use"
    assert (tool.name, tool.input) == ("generate_image", {"prompt": "a cat", "size": "1K"})
    assert message.stop_reason == "tool_use"
    follow_up = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[
            {"role": "user", "content": "draw"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": tool.id, "name": tool.name, "input": tool.input}
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool.id, "content": "image saved"}
                ],
            },
        ],
    )
    assert follow_up.content[0].type == "text"
    assert follow_up.content[0].text == "Tool result: image saved"


async def test_max_tokens_and_thinking_budget(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """Output is cut at max_tokens (stop_reason max_tokens); a budget >= max_tokens is 400."""
    claude_emulator.script(text_reply("x" * 400))
    message = await anthropic_client.messages.create(
        model=MODEL, max_tokens=10, messages=user("long")
    )
    assert message.stop_reason == "max_tokens"
    assert message.content[0].type == "text"
    assert len(message.content[0].text) == 40
    with pytest.raises(anthropic.BadRequestError, match="budget_tokens"):
        await anthropic_client.messages.create(
            model=MODEL,
            max_tokens=1500,
            thinking={"type": "enabled", "budget_tokens": 2048},
            messages=user("x"),
        )


async def test_automatic_prompt_caching(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A cache_control prefix is written once (cache creation) then read by the next request."""
    system = [
        {"type": "text", "text": "You are helpful. " * 400, "cache_control": {"type": "ephemeral"}}
    ]
    first = await anthropic_client.messages.create(
        model=MODEL, max_tokens=50, system=system, messages=user("a")
    )
    second = await anthropic_client.messages.create(
        model=MODEL, max_tokens=50, system=system, messages=user("b")
    )
    assert first.usage.cache_creation_input_tokens == 1700
    assert first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == 1700
    assert second.usage.input_tokens == 1
    short = [{"type": "text", "text": "tiny", "cache_control": {"type": "ephemeral"}}]
    small = await anthropic_client.messages.create(
        model=MODEL, max_tokens=50, system=short, messages=user("c")
    )
    assert small.usage.cache_creation_input_tokens == 0  # below the 1024-token minimum


async def test_http_failures(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """429 with retry-after, 529 overloaded and 400 prompt too long raise the SDK's errors."""
    claude_emulator.fail_next(RateLimited(retry_after=12))
    with pytest.raises(anthropic.RateLimitError) as rate:
        await anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=user("x"))
    assert rate.value.response.headers["retry-after"] == "12"
    assert rate.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    claude_emulator.fail_next(Overloaded())
    with pytest.raises(anthropic.OverloadedError):
        await anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=user("x"))
    claude_emulator.fail_next(PromptTooLong(tokens=250_000, maximum=200_000))
    with pytest.raises(
        anthropic.BadRequestError, match="prompt is too long: 250000 tokens > 200000 maximum"
    ):
        await anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=user("x"))
    claude_emulator.fail_next(HttpError(status=500, error_type="api_error", message="Internal"))
    with pytest.raises(anthropic.InternalServerError):
        await anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=user("x"))
    reply = await anthropic_client.messages.create(
        model=MODEL, max_tokens=10, messages=user("fine")
    )
    assert reply.content[0].type == "text"


async def test_prompt_too_long_by_estimate(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A request whose estimate exceeds the context window is refused like the real API."""
    with pytest.raises(
        anthropic.BadRequestError, match=r"prompt is too long: \d+ tokens > 200000 maximum"
    ):
        await anthropic_client.messages.create(
            model=MODEL, max_tokens=10, messages=user("word " * 170_000)
        )


async def _stream_text(client: AsyncAnthropic, received: list[str]) -> None:
    async with client.messages.stream(
        model=MODEL, max_tokens=100, messages=user("hello world again")
    ) as stream:
        async for text in stream.text_stream:
            received.append(text)


async def test_stream_breaks_mid_way(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A dropped connection mid-stream raises a transport error; an error event raises
    APIStatusError carrying overloaded_error; both after some text arrived."""
    claude_emulator.fail_next(StreamBreak(after_events=4, mode="disconnect"))
    received: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError):
        await _stream_text(anthropic_client, received)
    assert received == ["hello world "]
    claude_emulator.fail_next(StreamBreak(after_events=5, mode="error_event"))
    received.clear()
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        await _stream_text(anthropic_client, received)
    assert received == ["hello world ", "again"]


async def test_slow_first_token_and_chunk_delay(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """first_token_delay holds the first block back; chunk_delay paces the deltas."""
    claude_emulator.script(
        Reply(
            content=[TextBlock(text="abcdefghijklmnopqrstuvwx")],
            first_token_delay=0.3,
            chunk_delay=0.05,
        )
    )
    started = time.monotonic()
    async with anthropic_client.messages.stream(
        model=MODEL, max_tokens=100, messages=user("q")
    ) as stream:
        first_text_at = None
        async for event in stream:
            if event.type == "message_start":
                assert time.monotonic() - started < 0.25  # headers and message_start come at once
            if event.type == "text" and first_text_at is None:
                first_text_at = time.monotonic() - started
    total = time.monotonic() - started
    assert first_text_at is not None
    assert first_text_at >= 0.3
    assert total >= 0.4


async def test_retry_after_is_honoured(claude_emulator: ClaudeEmulator) -> None:
    """With retries on, the SDK waits retry-after seconds and the retried request succeeds."""
    client = make_anthropic(claude_emulator, max_retries=2)
    claude_emulator.fail_next(RateLimited(retry_after=0.4))
    claude_emulator.reply_text("after retry")
    started = time.monotonic()
    message = await client.messages.create(model=MODEL, max_tokens=10, messages=user("x"))
    elapsed = time.monotonic() - started
    await client.close()
    assert message.content[0].type == "text"
    assert message.content[0].text == "after retry"
    assert elapsed >= 0.4
    retries = [r.headers["x-stainless-retry-count"] for r in claude_emulator.message_requests()]
    assert retries == ["0", "1"]


async def test_script_matching_by_model_and_text(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """A script with model/contains filters waits for a matching request; others get defaults."""
    claude_emulator.script(
        text_reply("Taxes in Portugal", model="claude-haiku-4-5-20251001"),
        text_reply("scripted answer", contains="magic"),
    )
    plain = await anthropic_client.messages.create(
        model=MODEL, max_tokens=20, messages=user("nothing")
    )
    magic = await anthropic_client.messages.create(
        model=MODEL, max_tokens=20, messages=user("say magic")
    )
    title = await anthropic_client.messages.create(
        model="claude-haiku-4-5-20251001", max_tokens=20, messages=user("t")
    )
    texts = [m.content[0].text for m in (plain, magic, title) if m.content[0].type == "text"]
    assert texts == ["nothing", "scripted answer", "Taxes in Portugal"]
    assert claude_emulator.scripts == []


async def test_count_tokens(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """count_tokens answers the same estimate messages.create reports as input tokens."""
    counted = await anthropic_client.messages.count_tokens(model=MODEL, messages=user("a" * 400))
    created = await anthropic_client.messages.create(
        model=MODEL, max_tokens=5, messages=user("a" * 400)
    )
    assert counted.input_tokens == created.usage.input_tokens == 100
    assert [r.path for r in claude_emulator.requests] == [
        "/v1/messages/count_tokens",
        "/v1/messages",
    ]


async def test_files_api(anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator) -> None:
    """Upload, metadata (24 h expiry), list with pagination, use in a message, delete."""
    uploaded = await anthropic_client.beta.files.upload(
        file=("paper.pdf", b"%PDF-1.4 content", "application/pdf"), betas=["files-api-2025-04-14"]
    )
    assert uploaded.size_bytes == 16
    assert uploaded.mime_type == "application/pdf"
    assert uploaded.expires_at is not None
    assert uploaded.expires_at - uploaded.created_at == timedelta(hours=24)
    assert "files-api-2025-04-14" in claude_emulator.requests[-1].betas
    meta = await anthropic_client.beta.files.retrieve_metadata(uploaded.id)
    assert meta.filename == "paper.pdf"
    second = await anthropic_client.files.upload(file=("notes.txt", b"notes", "text/plain"))
    page = await anthropic_client.files.list(limit=1)
    assert [f.id for f in page.data] == [second.id]
    assert [f.id async for f in await anthropic_client.files.list(limit=1)] == [
        second.id,
        uploaded.id,
    ]
    message = await anthropic_client.messages.create(
        model=MODEL,
        max_tokens=20,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "file", "file_id": uploaded.id}},
                    {"type": "text", "text": "summarise"},
                ],
            }
        ],
    )
    assert message.usage.input_tokens >= 1600
    deleted = await anthropic_client.beta.files.delete(uploaded.id)
    assert deleted.type == "file_deleted"
    with pytest.raises(anthropic.NotFoundError):
        await anthropic_client.beta.files.retrieve_metadata(uploaded.id)
    with pytest.raises(anthropic.NotFoundError, match="File not found"):
        await anthropic_client.messages.create(
            model=MODEL,
            max_tokens=20,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "document", "source": {"type": "file", "file_id": uploaded.id}}
                    ],
                }
            ],
        )


async def test_file_expiry_and_download(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """Expired files are gone; only downloadable files (tool outputs) can be downloaded."""
    uploaded = await anthropic_client.files.upload(file=("a.txt", b"abc", "text/plain"))
    with pytest.raises(anthropic.BadRequestError, match="not downloadable"):
        await anthropic_client.files.download(uploaded.id)
    claude_emulator.expire_file(uploaded.id)
    with pytest.raises(anthropic.NotFoundError):
        await anthropic_client.files.retrieve_metadata(uploaded.id)
    produced = claude_emulator.add_file(b"\x89PNG plot", "plot.png", "image/png")
    content = await anthropic_client.files.download(produced.id)
    assert await content.read() == b"\x89PNG plot"


async def test_files_beta_header_can_be_required(claude_emulator: ClaudeEmulator) -> None:
    """With files_beta_required, Files calls without the anthropic-beta header are refused."""
    claude_emulator.files_beta_required = True
    client = make_anthropic(claude_emulator)
    try:
        with pytest.raises(anthropic.BadRequestError, match="anthropic-beta"):
            await client.files.upload(file=("a.txt", b"abc", "text/plain"))
        ok = await client.beta.files.upload(
            file=("a.txt", b"abc", "text/plain"), betas=["files-api-2025-04-14"]
        )
        assert ok.filename == "a.txt"
    finally:
        claude_emulator.files_beta_required = False
        await client.close()


async def test_authentication_required(claude_emulator: ClaudeEmulator) -> None:
    """A key outside the accepted set is 401 authentication_error."""
    claude_emulator.api_keys = {"right"}
    client = make_anthropic(claude_emulator, api_key="wrong")
    try:
        with pytest.raises(anthropic.AuthenticationError):
            await client.messages.create(model=MODEL, max_tokens=10, messages=user("x"))
    finally:
        claude_emulator.api_keys = None
        await client.close()

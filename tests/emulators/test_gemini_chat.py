"""Gemini chat through the thread's provider port: the Gemini adapter (google-genai, real SDK)
against the Gemini emulator streaming chat: text and thought summaries as they stream, usage
(cached and thinking tokens), function calls from the tool registry's schemas with their
thought signatures sent back, and failures (429, 503, a broken stream) as our failure kinds."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from google.genai import errors

from actors.thread.context import build_request
from actors.thread.gemini_request import SIGNATURE
from actors.thread.models import GEMINI_FLASH, GEMINI_FLASH_LITE, GEMINI_PRO
from actors.thread.provider import ModelCallError, StreamProgress
from actors.thread.state import HistoryItem, ThreadState
from actors.thread.tools.catalog import default_registry
from devkit.emulators.gemini import (
    FunctionCallPart,
    GeminiEmulator,
    Reply,
    ResourceExhausted,
    StreamBreak,
    TextPart,
    Unavailable,
    Usage,
)
from devkit.emulators.gemini.request import field
from devkit.emulators.testing import make_genai
from infra.threads.gemini_client import GeminiClient

NOW = 1_764_600_000.0


@pytest_asyncio.fixture(loop_scope="session")
async def gemini(gemini_emulator: GeminiEmulator) -> AsyncIterator[GeminiClient]:
    client = GeminiClient(make_genai(gemini_emulator), first_token_timeout=5, idle_timeout=5)
    yield client
    await client.close()


def thinking_config(body: Any) -> tuple[Any, Any]:
    """(includeThoughts, thinkingLevel) as sent (the SDK passes this object's keys as given)."""
    config = field(field(body, "generationConfig"), "thinkingConfig")
    return field(config, "includeThoughts"), field(config, "thinkingLevel")


def request(model: str, text: str = "hello", **kwargs: Any) -> dict[str, Any]:
    state = ThreadState(
        key="1:0", history=(HistoryItem(role="user", text=text, message_ids=(1,), sent_at=NOW),)
    )
    return build_request(state, model=model, personality=None, **kwargs).kwargs


async def test_a_streamed_answer_with_thoughts_and_usage(
    gemini: GeminiClient, gemini_emulator: GeminiEmulator
) -> None:
    """Thought summaries and text arrive as deltas; usage splits cached input and bills
    thoughts as output; the request carries the thinking level and the system prompt."""
    gemini_emulator.script(
        Reply(
            parts=[
                TextPart(text="Weighing the options carefully.", thought=True),
                TextPart(text="Kafka keeps an ordered log per partition, replicated."),
            ],
            usage=Usage(prompt_tokens=1200, cached_tokens=1000, thoughts_tokens=40),
        )
    )
    texts: list[str] = []
    thoughts: list[str] = []
    progress = StreamProgress()
    kwargs = request(GEMINI_FLASH, "what is kafka?", thinking_level="high")
    result = await gemini.stream(
        kwargs, progress, on_text=texts.append, on_thinking=thoughts.append
    )
    assert len(texts) > 1
    assert "".join(texts) == result.text == "Kafka keeps an ordered log per partition, replicated."
    assert "".join(thoughts) == "Weighing the options carefully."
    assert result.stop_reason == "end_turn"
    assert result.model == GEMINI_FLASH
    assert result.usage.input_tokens == 200
    assert result.usage.cache_read_input_tokens == 1000
    assert result.usage.thinking_tokens == 40
    assert result.usage.output_tokens > 40  # candidates + thoughts
    body = gemini_emulator.generate_calls()[-1].body
    assert thinking_config(body) == (True, "HIGH")
    assert "You are Gemini" in body["systemInstruction"]["parts"][0]["text"]


async def test_thinking_off_asks_for_the_lowest_level_without_summaries(
    gemini: GeminiClient, gemini_emulator: GeminiEmulator
) -> None:
    """Flash-Lite thinks minimally and Pro at low when the user's thinking is off."""
    for model, level in ((GEMINI_FLASH_LITE, "MINIMAL"), (GEMINI_PRO, "LOW")):
        await gemini.stream(request(model), StreamProgress())
        assert thinking_config(gemini_emulator.generate_calls()[-1].body) == (False, level)


async def test_a_function_call_round_trip_keeps_the_thought_signature(
    gemini: GeminiClient, gemini_emulator: GeminiEmulator
) -> None:
    """The registry's client tools are declared from their schemas (server tools left out); a
    function call comes back as a tool_use block with Gemini's signature, and the next
    step sends call, signature and result back (the emulator refuses an unsigned call)."""
    registry = default_registry()
    tools = registry.definitions(GEMINI_FLASH)
    names = {t["name"] for t in tools}
    assert "estimate_cost" in names
    assert not names & {"web_search", "web_fetch", "extended_thinking"}
    gemini_emulator.script(
        Reply(parts=[FunctionCallPart(name="estimate_cost", args={"items": []}, id="call-1")]),
        Reply(parts=[TextPart(text="That costs nothing.")]),
    )
    kwargs = request(GEMINI_FLASH, "what would it cost?", tools=tools)
    first = await gemini.stream(kwargs, StreamProgress())
    assert first.stop_reason == "tool_use"
    [use] = first.content
    assert (use["type"], use["id"], use["name"], use["input"]) == (
        "tool_use", "call-1", "estimate_cost", {"items": []},
    )  # fmt: skip
    assert base64.b64decode(use[SIGNATURE]).startswith(b"emulated-signature:")
    declared = gemini_emulator.generate_calls()[-1].body["tools"][0]["functionDeclarations"]
    assert {d["name"] for d in declared} == names
    result = {"type": "tool_result", "tool_use_id": "call-1", "content": "$0.00"}
    continuation = [
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    second = await gemini.stream(
        request(GEMINI_FLASH, "what would it cost?", tools=tools, continuation=continuation),
        StreamProgress(),
    )
    assert second.text == "That costs nothing."
    sent = gemini_emulator.generate_calls()[-1].body["contents"]
    call_part = sent[-2]["parts"][0]
    assert call_part["functionCall"]["name"] == "estimate_cost"
    assert call_part["thoughtSignature"] == use[SIGNATURE].replace("+", "-").replace("/", "_")
    response = sent[-1]["parts"][0]["functionResponse"]
    assert response == {"id": "call-1", "name": "estimate_cost", "response": {"output": "$0.00"}}


async def test_an_unsigned_function_call_is_refused_by_the_emulator(
    gemini_emulator: GeminiEmulator,
) -> None:
    """As the Gemini 3 API: a model turn's function call sent back without its signature is
    a 400 INVALID_ARGUMENT."""
    client = make_genai(gemini_emulator)
    contents: Any = [
        {"role": "user", "parts": [{"text": "go"}]},
        {"role": "model", "parts": [{"function_call": {"name": "f", "args": {}}}]},
        {"role": "user", "parts": [{"function_response": {"name": "f", "response": {}}}]},
    ]
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.models.generate_content(model=GEMINI_FLASH, contents=contents)
    assert caught.value.code == 400
    assert "thought_signature" in str(caught.value.message)
    await client.aio.aclose()


@pytest.mark.parametrize(
    ("failure", "kind", "retry_after"),
    [(ResourceExhausted(retry_delay=7), "rate_limited", 7.0), (Unavailable(), "overloaded", None)],
)
async def test_failures_before_streaming_are_classified(
    gemini: GeminiClient,
    gemini_emulator: GeminiEmulator,
    failure: Any,
    kind: str,
    retry_after: float | None,
) -> None:
    """429 is rate_limited with Google's RetryInfo delay, 503 overloaded; nothing streamed."""
    gemini_emulator.fail_next(failure)
    progress = StreamProgress()
    with pytest.raises(ModelCallError) as caught:
        await gemini.stream(request(GEMINI_FLASH), progress)
    assert caught.value.failure.kind == kind
    assert caught.value.failure.retry_after == retry_after
    assert not caught.value.failure.streamed
    assert progress.partial_usage().is_zero()


async def test_a_broken_stream_keeps_what_streamed(
    gemini: GeminiClient, gemini_emulator: GeminiEmulator
) -> None:
    """A stream cut mid-way is stream_broken; the partial text and its usage are kept."""
    gemini_emulator.script(
        Reply(
            parts=[TextPart(text="one two three four five six seven eight nine ten")],
            failure=StreamBreak(after_chunks=1),
        )
    )
    progress = StreamProgress()
    with pytest.raises(ModelCallError) as caught:
        await gemini.stream(request(GEMINI_FLASH), progress)
    assert caught.value.failure.kind == "stream_broken"
    assert progress.text == "one two three four "
    assert progress.partial_usage().input_tokens > 0

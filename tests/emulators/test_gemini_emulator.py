"""The Gemini emulator driven by the real google-genai SDK: chat (JSON and SSE streaming),
thinking, function calls, image generation by aspect ratio and size, reference images,
failures in Google's error shape, the control API."""

from __future__ import annotations

import base64

import aiohttp
import pytest
from google import genai
from google.genai import errors
from google.genai import types as t

from devkit.emulators.gemini import (
    FunctionCallPart,
    GeminiEmulator,
    InvalidArgument,
    Reply,
    ResourceExhausted,
    StreamBreak,
    TextPart,
    Unavailable,
    Usage,
    image_dimensions,
    png_bytes,
    png_size,
)
from devkit.emulators.testing import make_genai

CHAT = "gemini-2.5-flash-lite"
IMAGE = "gemini-3-pro-image-preview"


async def test_chat_default_reply_and_usage(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """An unscripted chat call echoes the prompt and reports prompt and candidate tokens."""
    response = await genai_client.aio.models.generate_content(model=CHAT, contents="hello there")
    assert response.text == "Emulated Gemini reply to: hello there"
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count == 3
    assert response.usage_metadata.candidates_token_count == 10
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == t.FinishReason.STOP
    call = gemini_emulator.generate_calls()[0]
    assert call.path.endswith(f"/models/{CHAT}:generateContent")
    assert call.headers["x-goog-api-key"] == "emulator-key"


async def test_stream_chunks_with_thoughts_and_usage(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """Streaming sends thought parts first, text in chunks, full usage on the last chunk."""
    gemini_emulator.script(
        Reply(
            parts=[
                TextPart(text="Let me think.", thought=True),
                TextPart(text="one two three four five six"),
            ],
            usage=Usage(thoughts_tokens=40),
        )
    )
    config = t.GenerateContentConfig(thinking_config=t.ThinkingConfig(include_thoughts=True))
    chunks = [
        c
        async for c in await genai_client.aio.models.generate_content_stream(
            model=CHAT, contents="q", config=config
        )
    ]
    parts = [p for c in chunks for p in (c.candidates[0].content.parts or [])]  # type: ignore[index, union-attr]
    assert [bool(p.thought) for p in parts] == [True, False, False]
    assert "".join(p.text or "" for p in parts if not p.thought) == "one two three four five six"
    last = chunks[-1].usage_metadata
    assert last is not None
    assert last.thoughts_token_count == 40
    assert last.candidates_token_count == 7
    assert chunks[0].usage_metadata is not None
    assert chunks[0].usage_metadata.candidates_token_count is None
    assert chunks[-1].candidates[0].finish_reason == t.FinishReason.STOP  # type: ignore[index]
    assert gemini_emulator.calls[-1].query == {"alt": "sse"}


async def test_thoughts_hidden_unless_asked(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """Without include_thoughts no thought part is sent, but its tokens are still reported."""
    gemini_emulator.script(
        Reply(parts=[TextPart(text="hidden reasoning", thought=True), TextPart(text="answer")])
    )
    response = await genai_client.aio.models.generate_content(model=CHAT, contents="q")
    assert response.text == "answer"
    assert response.usage_metadata is not None
    assert response.usage_metadata.thoughts_token_count == 4


async def test_function_call_scripted(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """A scripted functionCall part reaches the SDK as a function call; tools are recorded."""
    gemini_emulator.script(
        Reply(parts=[FunctionCallPart(name="get_weather", args={"city": "Oslo"}, id="c1")])
    )
    tool = t.Tool(
        function_declarations=[
            t.FunctionDeclaration(
                name="get_weather",
                description="weather",
                parameters=t.Schema(
                    type=t.Type.OBJECT, properties={"city": t.Schema(type=t.Type.STRING)}
                ),
            )
        ]
    )
    response = await genai_client.aio.models.generate_content(
        model=CHAT, contents="weather?", config=t.GenerateContentConfig(tools=[tool])
    )
    assert response.function_calls is not None
    assert response.function_calls[0].name == "get_weather"
    assert response.function_calls[0].args == {"city": "Oslo"}
    body = gemini_emulator.generate_calls()[0].body
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"


@pytest.mark.parametrize(
    ("ratio", "size"), [("1:1", "1K"), ("16:9", "2K"), ("9:16", "512"), ("21:9", "4K")]
)
async def test_image_sized_by_ratio_and_size(
    genai_client: genai.Client, ratio: str, size: str
) -> None:
    """Image models answer a valid PNG of the size the aspect ratio and image size give."""
    config = t.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=t.ImageConfig(aspect_ratio=ratio, image_size=size),
    )
    response = await genai_client.aio.models.generate_content(
        model=IMAGE, contents="a cat", config=config
    )
    images = [p.inline_data for p in response.parts or [] if p.inline_data is not None]
    assert len(images) == 1
    assert images[0].mime_type == "image/png"
    assert images[0].data is not None
    assert png_size(images[0].data) == image_dimensions(ratio, size)


async def test_reference_images_recorded(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """Inline reference images in the request are recorded for the test to inspect."""
    reference = png_bytes(8, 8)
    await genai_client.aio.models.generate_content(
        model=IMAGE,
        contents=[t.Part.from_bytes(data=reference, mime_type="image/png"), "make it red"],
    )
    recorded = gemini_emulator.reference_images()
    assert [(r.mime_type, r.data) for r in recorded] == [("image/png", reference)]


async def test_unsupported_aspect_ratio_is_invalid_argument(genai_client: genai.Client) -> None:
    """An aspect ratio the models do not offer answers 400 INVALID_ARGUMENT."""
    config = t.GenerateContentConfig(image_config=t.ImageConfig(aspect_ratio="7:3"))
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.generate_content(model=IMAGE, contents="x", config=config)
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"


async def test_scripted_failures_in_google_shape(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """503 UNAVAILABLE, 429 RESOURCE_EXHAUSTED with RetryInfo and 400 INVALID_ARGUMENT."""
    gemini_emulator.fail_next(Unavailable())
    gemini_emulator.fail_next(ResourceExhausted(retry_delay=7))
    gemini_emulator.fail_next(InvalidArgument(message="bad"))
    with pytest.raises(errors.ServerError) as unavailable:
        await genai_client.aio.models.generate_content(model=CHAT, contents="x")
    assert (unavailable.value.code, unavailable.value.status) == (503, "UNAVAILABLE")
    with pytest.raises(errors.ClientError) as exhausted:
        await genai_client.aio.models.generate_content(model=CHAT, contents="x")
    assert exhausted.value.status == "RESOURCE_EXHAUSTED"
    assert exhausted.value.details["error"]["details"][0]["retryDelay"] == "7s"
    with pytest.raises(errors.ClientError) as invalid:
        await genai_client.aio.models.generate_content(model=CHAT, contents="x")
    assert (invalid.value.code, invalid.value.message) == (400, "bad")


async def test_sdk_retry_on_503_then_image(gemini_emulator: GeminiEmulator) -> None:
    """With the SDK's retry options a 503 is retried and the image then arrives."""
    gemini_emulator.fail_next(Unavailable())
    retry = t.HttpRetryOptions(attempts=2, initial_delay=0.01, max_delay=0.01, jitter=0)
    client = make_genai(gemini_emulator, retry_options=retry)
    try:
        response = await client.aio.models.generate_content(model=IMAGE, contents="a dog")
    finally:
        await client.aio.aclose()
    assert any(p.inline_data is not None for p in response.parts or [])
    assert len(gemini_emulator.generate_calls()) == 2


async def test_stream_break_drops_the_connection(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """StreamBreak ends the SSE stream mid-way; the SDK raises instead of finishing."""
    gemini_emulator.script(
        Reply(parts=[TextPart(text="a b c d e f g h i j k l")], failure=StreamBreak(after_chunks=1))
    )
    received: list[t.GenerateContentResponse] = []

    async def consume() -> None:
        stream = await genai_client.aio.models.generate_content_stream(model=CHAT, contents="x")
        async for chunk in stream:
            received.append(chunk)

    with pytest.raises(Exception):  # noqa: B017 - the transport's own error type
        await consume()
    assert len(received) <= 1


async def test_wrong_key_and_missing_contents() -> None:
    """A key not in api_keys answers 400 INVALID_ARGUMENT naming the key."""
    async with GeminiEmulator(api_keys={"good"}) as emulator:
        client = genai.Client(api_key="bad", http_options=t.HttpOptions(base_url=emulator.base_url))
        with pytest.raises(errors.ClientError) as caught:
            await client.aio.models.generate_content(model=CHAT, contents="x")
        await client.aio.aclose()
    assert "API key not valid" in (caught.value.message or "")


async def test_control_api_scripts_replies_as_json(
    genai_client: genai.Client, gemini_emulator: GeminiEmulator
) -> None:
    """Replies and failures posted as JSON are served in order; requests read back."""
    image = base64.b64encode(png_bytes(4, 2)).decode()
    replies = [
        {"failure": {"kind": "unavailable"}},
        {"parts": [{"type": "image", "data_b64": image}], "model": IMAGE},
    ]
    async with aiohttp.ClientSession(base_url=gemini_emulator.base_url) as http:
        async with http.post("/_control/replies", json={"replies": replies}) as resp:
            assert (await resp.json())["pending"] == 2
        with pytest.raises(errors.ServerError):
            await genai_client.aio.models.generate_content(model=CHAT, contents="x")
        response = await genai_client.aio.models.generate_content(model=IMAGE, contents="y")
        data = response.parts[0].inline_data.data  # type: ignore[index, union-attr]
        assert data is not None
        assert png_size(data) == (4, 2)
        async with http.get("/_control/requests") as resp:
            assert len((await resp.json())["requests"]) == 2
        async with http.post("/_control/reset") as resp:
            assert resp.status == 200
    assert gemini_emulator.calls == []

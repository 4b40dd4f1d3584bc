"""``generate_image`` on the Gemini adapter against the Gemini emulator (the real google-genai
SDK): sizes and ratios, edits with the thread's images, retries on 503, and 429 / 5xx /
timeouts / oversized or missing images answered with nothing charged."""

from __future__ import annotations

import json

import pytest
from tool_harness import providers_with, tool_context, user_file

from actors.thread.tools import generate_image
from actors.thread.tools.base import ToolFailure
from devkit.emulators.gemini import (
    GeminiEmulator,
    Reply,
    ResourceExhausted,
    TextPart,
    Unavailable,
    image_dimensions,
    oversized_image,
    png_bytes,
)
from infra.files.pg_store import PostgresFileStore
from infra.tools.gemini_images import GeminiImages


async def test_an_image_at_the_ratio_and_size_asked_for(
    file_store: PostgresFileStore, images: GeminiImages, gemini_emulator: GeminiEmulator
) -> None:
    """A 16:9 2K image comes back as a PNG file, shown to the model, charged as one 2k image."""
    ctx = tool_context(file_store, providers=providers_with(images=images))
    result = await generate_image.run(
        {"prompt": "a red fox", "aspect_ratio": "16:9", "size": "2K"}, ctx
    )
    report = json.loads(result.output)
    assert (report["width"], report["height"]) == image_dimensions("16:9", "2K")
    [made] = result.new_files
    assert made.mime_type == "image/png"
    assert made.data.startswith(b"\x89PNG")
    assert [b["type"] for b in result.blocks] == ["image"]
    assert [(i.size_class, i.count) for i in result.quantities.images] == [("2k", 1)]
    config = gemini_emulator.generate_calls()[-1].body["generationConfig"]
    assert config["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}


async def test_an_edit_sends_the_threads_images_as_references(
    file_store: PostgresFileStore, images: GeminiImages, gemini_emulator: GeminiEmulator
) -> None:
    """reference_file_ids are read from the thread's store and sent inline before the prompt."""
    photo = png_bytes(16, 16, (200, 30, 30))
    note = await user_file(file_store, photo, "cat.png", "image/png", stored_kind="image")
    ctx = tool_context(file_store, files=(note,), providers=providers_with(images=images))
    result = await generate_image.run(
        {"prompt": "make it blue", "reference_file_ids": [note.id]}, ctx
    )
    assert json.loads(result.output)["mode"] == "edit"
    assert [(r.mime_type, r.data) for r in gemini_emulator.reference_images()] == [
        ("image/png", photo)
    ]


async def test_503_is_retried_then_the_image_arrives(
    file_store: PostgresFileStore, images: GeminiImages, gemini_emulator: GeminiEmulator
) -> None:
    """Two 503 UNAVAILABLE answers are retried; the third attempt's image is the result."""
    gemini_emulator.fail_next(Unavailable())
    gemini_emulator.fail_next(Unavailable())
    ctx = tool_context(file_store, providers=providers_with(images=images))
    result = await generate_image.run({"prompt": "a boat"}, ctx)
    assert len(result.new_files) == 1
    assert len(gemini_emulator.generate_calls()) == 3


async def test_503_beyond_the_retries_fails_with_no_charge(
    file_store: PostgresFileStore, images: GeminiImages, gemini_emulator: GeminiEmulator
) -> None:
    """Gemini overloaded on every attempt: provider_error saying so, nothing charged."""
    for _ in range(3):
        gemini_emulator.fail_next(Unavailable())
    ctx = tool_context(file_store, providers=providers_with(images=images))
    with pytest.raises(ToolFailure) as caught:
        await generate_image.run({"prompt": "a boat"}, ctx)
    assert caught.value.error_class == "provider_error"
    assert "503" in caught.value.message
    assert "after 3 attempts" in caught.value.message
    assert caught.value.quantities.is_zero()


async def test_429_is_rate_limited_with_googles_delay(
    file_store: PostgresFileStore, images: GeminiImages, gemini_emulator: GeminiEmulator
) -> None:
    """RESOURCE_EXHAUSTED is not retried: rate_limited, with the retry delay Google gave."""
    gemini_emulator.fail_next(ResourceExhausted(retry_delay=7))
    ctx = tool_context(file_store, providers=providers_with(images=images))
    with pytest.raises(ToolFailure) as caught:
        await generate_image.run({"prompt": "a boat"}, ctx)
    assert caught.value.error_class == "rate_limited"
    assert "retry in 7s" in caught.value.message
    assert caught.value.quantities.is_zero()


async def test_a_slow_gemini_is_a_timeout(
    file_store: PostgresFileStore, gemini_emulator: GeminiEmulator
) -> None:
    """An answer later than the adapter's timeout fails the call as a timeout."""
    from infra.tools.gemini_images import GeminiImageConfig

    slow = GeminiImages(
        GeminiImageConfig(api_key="k", base_url=gemini_emulator.base_url, timeout=1.0, attempts=1)
    )
    gemini_emulator.script(Reply(delay=5))
    try:
        ctx = tool_context(file_store, providers=providers_with(images=slow))
        with pytest.raises(ToolFailure) as caught:
            await generate_image.run({"prompt": "a boat"}, ctx)
    finally:
        await slow.close()
    assert caught.value.error_class == "timeout"
    assert caught.value.quantities.is_zero()


async def test_an_oversized_or_missing_image_is_not_charged(
    file_store: PostgresFileStore, images: GeminiImages, gemini_emulator: GeminiEmulator
) -> None:
    """An image over the size limit, or an answer with text only (a refused prompt), fails
    the call as provider_error with the reason; nothing is charged."""
    gemini_emulator.script(oversized_image(21 * 1024 * 1024))
    gemini_emulator.script(
        Reply(parts=[TextPart(text="I can't draw that.")], finish_reason="SAFETY")
    )
    ctx = tool_context(file_store, providers=providers_with(images=images))
    with pytest.raises(ToolFailure, match="over the 20 MB limit") as big:
        await generate_image.run({"prompt": "a huge boat"}, ctx)
    with pytest.raises(ToolFailure, match="no image") as none:
        await generate_image.run({"prompt": "something refused"}, ctx)
    assert "I can't draw that." in none.value.message
    for caught in (big, none):
        assert caught.value.error_class == "provider_error"
        assert caught.value.quantities.is_zero()


async def test_bad_input_is_refused_before_any_request(
    file_store: PostgresFileStore, images: GeminiImages, gemini_emulator: GeminiEmulator
) -> None:
    """An aspect ratio or size Gemini does not offer is refused with the choices."""
    ctx = tool_context(file_store, providers=providers_with(images=images))
    with pytest.raises(ToolFailure, match="aspect_ratio must be one of"):
        await generate_image.run({"prompt": "x", "aspect_ratio": "7:3"}, ctx)
    with pytest.raises(ToolFailure, match="size must be one of"):
        await generate_image.run({"prompt": "x", "size": "8K"}, ctx)
    assert gemini_emulator.generate_calls() == []

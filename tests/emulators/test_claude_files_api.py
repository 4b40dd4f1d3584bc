"""The Claude emulator's Files API, through the anthropic SDK: upload expiry as the API
takes it, 404 once expired, and file references in messages checked against the file."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anthropic
import pytest
from anthropic import AsyncAnthropic

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.testing import make_anthropic

MODEL = "claude-sonnet-4-6"


def _ref(block_type: str, file_id: str) -> list[Any]:
    return [
        {
            "role": "user",
            "content": [
                {"type": block_type, "source": {"type": "file", "file_id": file_id}},
                {"type": "text", "text": "what is this?"},
            ],
        }
    ]


async def test_upload_expiry_is_chosen_within_the_api_bounds(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """expires_in_seconds sets expires_at (1 h to 90 days); out of range answers 400."""
    meta = await anthropic_client.files.upload(
        file=("a.pdf", b"%PDF-1.4 x", "application/pdf"), expires_in_seconds=7200
    )
    assert meta.expires_at is not None
    assert meta.expires_at - meta.created_at == timedelta(hours=2)
    for bad in (60, 7_776_001):
        with pytest.raises(anthropic.BadRequestError, match="expires_in_seconds"):
            await anthropic_client.files.upload(
                file=("a.pdf", b"%PDF", "application/pdf"), expires_in_seconds=bad
            )


async def test_references_are_checked_against_the_file(
    anthropic_client: AsyncAnthropic, claude_emulator: ClaudeEmulator
) -> None:
    """An image block must name an image file and a document block a PDF or plain text;
    a reference to an expired file answers 404, as after its expiry upstream."""
    pdf = await anthropic_client.files.upload(file=("p.pdf", b"%PDF-1.4", "application/pdf"))
    png = await anthropic_client.files.upload(file=("i.png", b"\x89PNG....", "image/png"))
    zip_ = await anthropic_client.files.upload(file=("a.zip", b"PK..", "application/zip"))
    ok = await anthropic_client.messages.create(
        model=MODEL, max_tokens=10, messages=_ref("document", pdf.id)
    )
    assert ok.content
    await anthropic_client.messages.create(
        model=MODEL, max_tokens=10, messages=_ref("image", png.id)
    )
    with pytest.raises(anthropic.BadRequestError, match="image block"):
        await anthropic_client.messages.create(
            model=MODEL, max_tokens=10, messages=_ref("image", pdf.id)
        )
    with pytest.raises(anthropic.BadRequestError, match="document block"):
        await anthropic_client.messages.create(
            model=MODEL, max_tokens=10, messages=_ref("document", zip_.id)
        )
    claude_emulator.expire_file(pdf.id)
    with pytest.raises(anthropic.NotFoundError, match="File not found"):
        await anthropic_client.messages.create(
            model=MODEL, max_tokens=10, messages=_ref("document", pdf.id)
        )


async def test_uploads_work_on_an_emulator_that_records_nothing() -> None:
    """record=False (benchmarks) used to fail every upload with an IndexError."""
    async with ClaudeEmulator(record=False) as emulator:
        client = make_anthropic(emulator)
        try:
            meta = await client.files.upload(file=("a.txt", b"abc", "text/plain"))
        finally:
            await client.close()
    assert meta.size_bytes == 3

"""The raw Messages stream client: error classification and SSE line splitting."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from infra.threads.messages_stream import _data_lines, status_failure


def _error(kind: str, message: str = "m") -> dict[str, object]:
    return {"type": "error", "error": {"type": kind, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (429, _error("rate_limit_error"), "rate_limited"),
        (529, _error("overloaded_error"), "overloaded"),
        (500, _error("overloaded_error"), "overloaded"),
        (400, _error("invalid_request_error", "prompt is too long: 300000"), "prompt_too_long"),
        (400, _error("invalid_request_error"), "invalid_request"),
        (401, _error("authentication_error"), "auth"),
        (403, _error("permission_error"), "auth"),
        (413, "too large", "invalid_request"),
        (500, _error("api_error"), "api_error"),
    ],
)
def test_http_errors_classified_like_the_sdk_exceptions(
    status: int, body: object, kind: str
) -> None:
    """An HTTP error answer maps to the same failure kind as the SDK's exception for it."""
    failure = status_failure(status, body, {"retry-after": "7"})
    assert failure.kind == kind
    assert failure.status == status
    assert failure.retry_after == 7.0
    assert not failure.streamed


def test_error_event_mid_stream_is_a_broken_stream() -> None:
    """An `error` event after the stream started is stream_broken, marked streamed."""
    failure = status_failure(200, _error("overloaded_error", "busy"), {}, streamed=True)
    assert failure.kind == "stream_broken"
    assert failure.streamed
    assert "overloaded_error" in failure.detail


async def test_data_lines_survive_any_chunking() -> None:
    """data: payloads are found whole however the bytes are split, long lines included."""
    big = b'{"type":"x","text":"' + b"a" * 200_000 + b'"}'
    raw = b"event: ping\ndata: {}\n\nevent: x\ndata: " + big + b'\n\ndata: {"type":"end"}'
    for size in (1, 7, 4096, len(raw)):
        loop = asyncio.get_running_loop()
        reader = aiohttp.StreamReader(_Protocol(), 2**16, loop=loop)  # type: ignore[arg-type]
        for start in range(0, len(raw), size):
            reader.feed_data(raw[start : start + size])
        reader.feed_eof()
        found = [line async for line in _data_lines(reader)]
        assert found == [b"{}", big, b'{"type":"end"}']


class _Protocol:
    """The least a StreamReader needs from its protocol."""

    _reading_paused = False

    def pause_reading(self, **_: object) -> None:
        pass

    def resume_reading(self, **_: object) -> None:
        pass

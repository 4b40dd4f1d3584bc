"""What the next transcription request answers: a transcript or a failure (msgspec Structs, so
the same shapes travel as JSON over the control API)."""

from __future__ import annotations

from typing import Any

import msgspec


class Segment(msgspec.Struct, kw_only=True):
    start: float
    end: float
    text: str


class RateLimited(msgspec.Struct, tag="rate_limited", tag_field="kind", kw_only=True):
    """429 with a retry-after header (seconds)."""

    retry_after: float = 1.0
    message: str = "Rate limit reached for requests"


class ServerError(msgspec.Struct, tag="server_error", tag_field="kind", kw_only=True):
    """500 server_error."""

    message: str = "The server had an error while processing your request. Sorry about that!"


class HttpError(msgspec.Struct, tag="http_error", tag_field="kind", kw_only=True):
    """Any status with OpenAI's error body."""

    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)


Failure = RateLimited | ServerError | HttpError


class Transcript(msgspec.Struct, kw_only=True):
    """A scripted answer. Empty fields are filled from the request: `duration` from the audio
    (WAV or Ogg header) or the scripted segments, `segments` one per sentence of `text`,
    `language` from the request's language or "english"."""

    text: str = ""
    duration: float | None = None
    language: str | None = None
    segments: list[Segment] | None = None
    failure: Failure | None = None
    filename_contains: str | None = None  # only consumed by a request whose file name matches


def transcripts_from_json(raw: bytes) -> list[Transcript]:
    return msgspec.json.decode(raw, type=list[Transcript])


def transcript_to_builtins(transcript: Transcript) -> Any:
    return msgspec.to_builtins(transcript)

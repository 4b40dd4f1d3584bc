"""What the next Gemini generateContent call answers: parts (text, thought text, function
calls, images), usage, finish reason, or a failure. msgspec Structs, so the same shapes travel
as JSON over the control API."""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from .png import png_bytes


class TextPart(msgspec.Struct, tag="text", tag_field="type", kw_only=True):
    text: str
    thought: bool = False  # a thought summary (only sent when thinking_config asks for them)


class FunctionCallPart(msgspec.Struct, tag="function_call", tag_field="type", kw_only=True):
    name: str
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    id: str = ""
    thought_signature: str = ""
    """Base64; empty: Gemini 3 models sign the first call of a response themselves."""


class ImagePart(msgspec.Struct, tag="image", tag_field="type", kw_only=True):
    """An image; empty `data_b64` means a generated PNG of the requested size."""

    mime_type: str = "image/png"
    data_b64: str = ""


Part = TextPart | FunctionCallPart | ImagePart


class Usage(msgspec.Struct, kw_only=True):
    """Token counts to report; None means estimated (about 4 characters a token)."""

    prompt_tokens: int | None = None
    candidates_tokens: int | None = None
    thoughts_tokens: int | None = None
    cached_tokens: int = 0
    """Part of the prompt read from the (implicit) cache: cachedContentTokenCount."""


class Unavailable(msgspec.Struct, tag="unavailable", tag_field="kind", kw_only=True):
    """503 UNAVAILABLE (the model is overloaded)."""

    message: str = "The model is overloaded. Please try again later."


class ResourceExhausted(msgspec.Struct, tag="resource_exhausted", tag_field="kind", kw_only=True):
    """429 RESOURCE_EXHAUSTED with a RetryInfo detail."""

    retry_delay: float = 1.0
    message: str = "You exceeded your current quota, please check your plan and billing details."


class InvalidArgument(msgspec.Struct, tag="invalid_argument", tag_field="kind", kw_only=True):
    """400 INVALID_ARGUMENT."""

    message: str = "Request contains an invalid argument."


class HttpError(msgspec.Struct, tag="http_error", tag_field="kind", kw_only=True):
    """Any status in Google's error shape."""

    status: int
    status_name: str
    message: str


class StreamBreak(msgspec.Struct, tag="stream_break", tag_field="kind", kw_only=True):
    """Streaming only: drop the connection after `after_chunks` chunks."""

    after_chunks: int = 1


Failure = Unavailable | ResourceExhausted | InvalidArgument | HttpError | StreamBreak


class Reply(msgspec.Struct, kw_only=True):
    """A scripted answer; no parts means the default answer for the request."""

    parts: list[Part] = msgspec.field(default_factory=list)
    usage: Usage = msgspec.field(default_factory=Usage)
    finish_reason: str = "STOP"
    failure: Failure | None = None
    model: str | None = None  # only consumed by a request for this model
    delay: float = 0.0  # seconds to wait before answering (a client timeout shorter fails)
    chunk_delay: float = 0.0
    """Streaming: seconds between chunks (a reply that takes a while, for drafts)."""


def oversized_image(size_bytes: int) -> Reply:
    """A reply whose image is ``size_bytes`` long (a small PNG padded with zeros): the
    oversized-output failure mode."""
    data = png_bytes(8, 8)
    data += bytes(max(0, size_bytes - len(data)))
    return Reply(parts=[ImagePart(mime_type="image/png", data_b64=base64.b64encode(data).decode())])


def replies_from_json(raw: bytes) -> list[Reply]:
    return msgspec.json.decode(raw, type=list[Reply])


def reply_to_builtins(reply: Reply) -> Any:
    return msgspec.to_builtins(reply)

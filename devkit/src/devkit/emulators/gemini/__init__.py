"""Gemini Developer API emulator (google-genai), shared by the image tool and Gemini chat.

Point the SDK at it with ``genai.Client(api_key="k", http_options=types.HttpOptions(
base_url=emulator.base_url))`` (or GOOGLE_GEMINI_BASE_URL). The key travels as
``x-goog-api-key``; none answers 403 PERMISSION_DENIED, one not in ``api_keys`` (when given)
400 INVALID_ARGUMENT.

What it answers
- ``POST /v1beta/models/{model}:generateContent``: one GenerateContentResponse
  (candidates[0].content.parts, finishReason, usageMetadata with promptTokenCount,
  candidatesTokenCount, thoughtsTokenCount, totalTokenCount; modelVersion, responseId).
- ``...:streamGenerateContent?alt=sse``: the same as ``data: {...}`` chunks: thought parts
  first, text a few words a chunk, each functionCall or image in its own chunk; the last chunk
  has finishReason and the full usage, earlier ones promptTokenCount only.
- Image models (a model name containing "image"): unscripted, a text part and an inline PNG
  (a real, valid file) sized by ``image_config.aspect_ratio`` (1:1, 2:3, 3:2, 3:4, 4:3, 4:5,
  5:4, 9:16, 16:9, 21:9) and ``image_size`` (512, 1K, 2K, 4K; see `png.image_dimensions`);
  other values answer 400 INVALID_ARGUMENT. Reference images sent inline are recorded:
  ``emulator.reference_images()``.
- Chat models, unscripted: "Emulated Gemini reply to: <last user text>", preceded by a thought
  part when ``thinking_config.include_thoughts`` is set. Thought parts (scripted or not) only
  reach clients that asked for them; thoughtsTokenCount is reported either way.
- Gemini 3 chat models (``gemini-3*``) sign the first function call of a response
  (``thoughtSignature``, base64) and answer 400 INVALID_ARGUMENT to a conversation whose
  first function call of a model turn comes back without it, as the API does; a
  ``functionResponse`` without a name is refused too. ``Usage(cached_tokens=n)`` reports
  ``cachedContentTokenCount``.
- Errors in Google's shape ``{"error": {"code", "message", "status", "details"?}}``.

Scripting (in process, or JSON over ``POST /_control/replies``)
- ``emulator.reply_text("hi")``; ``emulator.script(Reply(parts=[TextPart(text=..., thought=True),
  TextPart(text=...), FunctionCallPart(name="get_weather", args={...}),
  ImagePart(mime_type=..., data_b64=...)], usage=Usage(...), finish_reason="MAX_TOKENS",
  model="gemini-...", chunk_delay=0.05))``; an ImagePart without data is a generated PNG of
  the requested size.
- ``emulator.fail_next(Unavailable())`` (503 UNAVAILABLE), ``ResourceExhausted(retry_delay=7)``
  (429 with a RetryInfo detail), ``InvalidArgument(message=...)`` (400),
  ``HttpError(status=..., status_name=..., message=...)``, ``StreamBreak(after_chunks=n)``
  (streaming: the connection drops after n chunks); ``Reply(delay=30)`` answers only after
  30 s (a client timeout shorter than that fails: the timeout failure mode); an oversized
  answer is ``Reply(parts=[ImagePart(data_b64=...)])`` with as many bytes as wanted
  (``oversized_image(n)``). Over HTTP: ``{"replies":
  [{"failure": {"kind": "unavailable"}}, {"parts": [{"type": "text", "text": "x"}]}]}``.
- ``emulator.generate_calls()`` / ``GET /_control/requests``: the recorded request bodies;
  ``POST /_control/reset`` forgets scripts and recordings.
"""

from .png import SIZES_1K, image_dimensions, png_bytes, png_size
from .request import InlineImage
from .scripts import (
    Failure,
    FunctionCallPart,
    HttpError,
    ImagePart,
    InvalidArgument,
    Part,
    Reply,
    ResourceExhausted,
    StreamBreak,
    TextPart,
    Unavailable,
    Usage,
    oversized_image,
)
from .server import GeminiEmulator

__all__ = [
    "SIZES_1K",
    "Failure",
    "FunctionCallPart",
    "GeminiEmulator",
    "HttpError",
    "ImagePart",
    "InlineImage",
    "InvalidArgument",
    "Part",
    "Reply",
    "ResourceExhausted",
    "StreamBreak",
    "TextPart",
    "Unavailable",
    "Usage",
    "image_dimensions",
    "oversized_image",
    "png_bytes",
    "png_size",
]

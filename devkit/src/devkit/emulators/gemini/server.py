"""The Gemini Developer API emulator: models/{model}:generateContent and
:streamGenerateContent?alt=sse under /v1beta (and /v1)."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import web

from devkit.emulators._http import encode_json, json_response
from devkit.emulators._provider import ProviderEmulator, RecordedCall

from .compose import default_parts, is_image_model, response_body, signed, stream_bodies
from .png import SCALES, SIZES_1K, image_dimensions
from .request import InlineImage, history_error, image_config, inline_files, inline_images
from .scripts import (
    Failure,
    HttpError,
    InvalidArgument,
    Reply,
    ResourceExhausted,
    StreamBreak,
    TextPart,
    Unavailable,
    replies_from_json,
    reply_to_builtins,
)


class GoogleError(Exception):
    def __init__(
        self, code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.details = code, status, message, details

    def response(self) -> web.Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return json_response({"error": error}, status=self.code)


class GeminiEmulator(ProviderEmulator):
    """Emulated Gemini Developer API (google-genai: ``HttpOptions(base_url=emulator.base_url)``)."""

    def __init__(self, *, api_keys: set[str] | None = None) -> None:
        super().__init__(client_max_size=64 * 1024 * 1024)
        self.api_keys = api_keys
        self.scripts: list[Reply] = []
        self._ids = itertools.count(1)
        for version in ("v1beta", "v1"):
            self.app.router.add_post(f"/{version}/models/{{call}}", self._handle_call)
        self.app.router.add_post("/_control/replies", self._c_add)
        self.app.router.add_get("/_control/replies", self._c_list)
        self.app.router.add_delete("/_control/replies", self._c_clear)

    def script(self, *replies: Reply) -> None:
        """Queue replies; each call consumes the first one whose model filter it matches."""
        self.scripts.extend(replies)

    def reply_text(self, text: str, **kwargs: Any) -> None:
        self.script(Reply(parts=[TextPart(text=text)], **kwargs))

    def fail_next(self, failure: Failure, **kwargs: Any) -> None:
        self.script(Reply(failure=failure, **kwargs))

    def reset(self) -> None:
        super().reset()
        self.scripts.clear()

    def generate_calls(self) -> list[RecordedCall]:
        return self.calls_to("Content")

    def reference_images(self, call: RecordedCall | None = None) -> list[InlineImage]:
        """The inline images of a call's request (default: the last call)."""
        calls = self.generate_calls()
        if call is None and not calls:
            raise LookupError("no generateContent call received")
        return inline_images((call or calls[-1]).body)

    def inline_files(self, call: RecordedCall | None = None) -> list[InlineImage]:
        """Every inline part (images, PDFs...) of a call's request (default: the last)."""
        calls = self.generate_calls()
        if call is None and not calls:
            raise LookupError("no generateContent call received")
        return inline_files((call or calls[-1]).body)

    # ---- the API -----------------------------------------------------------------------------

    async def _handle_call(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["call"].partition(":")
        try:
            body = await self._receive(request)
            if method not in ("generateContent", "streamGenerateContent"):
                raise GoogleError(404, "NOT_FOUND", f"Method not found: {method}")
            refused = history_error(body, model)
            if refused is not None:
                raise GoogleError(400, "INVALID_ARGUMENT", refused)
            reply = self._pick(model)
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
            failure = reply.failure
            if failure is not None and not isinstance(failure, StreamBreak):
                raise _failure_error(failure)
            dimensions = _dimensions(model, body)
            if not reply.parts:
                reply = Reply(
                    parts=default_parts(model, body),
                    usage=reply.usage,
                    finish_reason=reply.finish_reason,
                    failure=failure,
                    chunk_delay=reply.chunk_delay,
                )
            response_id = f"emu-{next(self._ids):08d}"
            reply = signed(reply, model, response_id)
            if method == "generateContent":
                return json_response(response_body(reply, body, model, response_id, dimensions))
            chunks = stream_bodies(reply, body, model, response_id, dimensions)
            return await self._stream(request, chunks, failure, reply.chunk_delay)
        except GoogleError as e:
            return e.response()

    async def _receive(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self.record(request, None)
            raise GoogleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
        self.record(request, body)
        key = request.headers.get("x-goog-api-key") or request.query.get("key", "")
        if not key:
            raise GoogleError(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers. Please use an API Key.",
            )
        if self.api_keys is not None and key not in self.api_keys:
            raise GoogleError(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
            )
        if not isinstance(body, dict) or not body.get("contents"):
            raise GoogleError(
                400,
                "INVALID_ARGUMENT",
                "* GenerateContentRequest.contents: contents is not specified",
            )
        return body

    def _pick(self, model: str) -> Reply:
        for i, reply in enumerate(self.scripts):
            if reply.model is None or reply.model == model:
                return self.scripts.pop(i)
        return Reply()

    async def _stream(
        self,
        request: web.Request,
        chunks: list[dict[str, Any]],
        failure: Failure | None,
        delay: float = 0.0,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for i, chunk in enumerate(chunks):
            if isinstance(failure, StreamBreak) and i >= failure.after_chunks:
                if request.transport is not None:
                    request.transport.abort()
                return response
            await response.write(b"data: " + encode_json(chunk) + b"\r\n\r\n")
            await asyncio.sleep(delay if i < len(chunks) - 1 else 0)
        await response.write_eof()
        return response

    # ---- control over HTTP -------------------------------------------------------------------

    async def _c_add(self, request: web.Request) -> web.Response:
        try:
            parsed = json.loads(await request.read())
            items = parsed["replies"] if isinstance(parsed, dict) else parsed
            self.script(*replies_from_json(encode_json(items)))
        except (ValueError, KeyError, TypeError) as e:
            return json_response({"ok": False, "error": str(e)}, status=400)
        return json_response({"ok": True, "pending": len(self.scripts)})

    async def _c_list(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "replies": [reply_to_builtins(r) for r in self.scripts]})

    async def _c_clear(self, request: web.Request) -> web.Response:
        self.scripts.clear()
        return json_response({"ok": True})


def _dimensions(model: str, body: Any) -> tuple[int, int]:
    """The generated image's size; unsupported values answer 400 as the API does."""
    ratio, size = image_config(body)
    if ratio not in SIZES_1K:
        raise GoogleError(
            400,
            "INVALID_ARGUMENT",
            f"Unsupported aspect ratio: {ratio}. Use one of {list(SIZES_1K)}.",
        )
    if size not in SCALES:
        raise GoogleError(
            400, "INVALID_ARGUMENT", f"Unsupported image size: {size}. Use one of {list(SCALES)}."
        )
    if not is_image_model(model) and size != "1K":
        raise GoogleError(400, "INVALID_ARGUMENT", f"Model {model} does not generate images.")
    return image_dimensions(ratio, size)


def _failure_error(failure: Failure) -> GoogleError:
    if isinstance(failure, Unavailable):
        return GoogleError(503, "UNAVAILABLE", failure.message)
    if isinstance(failure, ResourceExhausted):
        retry = {
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": f"{failure.retry_delay:g}s",
        }
        return GoogleError(429, "RESOURCE_EXHAUSTED", failure.message, [retry])
    if isinstance(failure, InvalidArgument):
        return GoogleError(400, "INVALID_ARGUMENT", failure.message)
    assert isinstance(failure, HttpError)
    return GoogleError(failure.status, failure.status_name, failure.message)

"""The OpenAI audio transcription emulator: POST /v1/audio/transcriptions (multipart)."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from devkit.emulators._http import json_response
from devkit.emulators._provider import ProviderEmulator, bearer_key

from .audio import SUPPORTED_FORMATS, audio_duration, file_format
from .scripts import (
    Failure,
    HttpError,
    RateLimited,
    Segment,
    ServerError,
    Transcript,
    transcript_to_builtins,
    transcripts_from_json,
)

MAX_FILE_BYTES = 25 * 1024 * 1024
MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
FORMATS_BY_MODEL = {
    "whisper-1": ("json", "text", "srt", "verbose_json", "vtt"),
    "gpt-4o-transcribe": ("json", "text"),
    "gpt-4o-mini-transcribe": ("json", "text"),
}
LANGUAGES = {"en": "english", "ru": "russian", "de": "german", "fr": "french", "es": "spanish"}


class OpenAIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        error_type: str = "invalid_request_error",
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.error_type = status, message, error_type
        self.param, self.code, self.headers = param, code, headers or {}

    def response(self) -> web.Response:
        body = {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }
        return json_response(body, status=self.status, headers=self.headers)


class WhisperEmulator(ProviderEmulator):
    """Emulated OpenAI API for speech to text (the openai SDK's base_url: `<url>/v1`)."""

    def __init__(self, *, api_keys: set[str] | None = None) -> None:
        super().__init__(client_max_size=MAX_FILE_BYTES + 8 * 1024 * 1024)
        self.api_keys = api_keys
        self.scripts: list[Transcript] = []
        self.app.router.add_post("/v1/audio/transcriptions", self._handle_transcription)
        self.app.router.add_post("/_control/transcripts", self._c_add)
        self.app.router.add_get("/_control/transcripts", self._c_list)
        self.app.router.add_delete("/_control/transcripts", self._c_clear)

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    def script(self, *transcripts: Transcript) -> None:
        """Queue answers; each request consumes the first one whose filter it matches."""
        self.scripts.extend(transcripts)

    def transcribe_as(self, text: str, **kwargs: Any) -> None:
        self.script(Transcript(text=text, **kwargs))

    def fail_next(self, failure: Failure) -> None:
        self.script(Transcript(failure=failure))

    def reset(self) -> None:
        super().reset()
        self.scripts.clear()

    # ---- the API -----------------------------------------------------------------------------

    async def _handle_transcription(self, request: web.Request) -> web.Response:
        try:
            form = await self._read_form(request)
            self._authenticate(request)
            reply = self._pick(form["filename"])
            if reply.failure is not None:
                raise _failure_error(reply.failure)
            return _render(form, _complete(reply, form))
        except OpenAIError as e:
            return e.response()

    async def _read_form(self, request: web.Request) -> dict[str, Any]:
        if not request.content_type.startswith("multipart/"):
            self.record(request, None)
            raise OpenAIError(400, "Expected a multipart/form-data request body")
        post = await request.post()
        upload = post.get("file")
        fields = {k: str(v) for k, v in post.items() if isinstance(v, str)}
        data = upload.file.read() if isinstance(upload, web.FileField) else None
        filename = upload.filename if isinstance(upload, web.FileField) else ""
        size = len(data) if data is not None else 0
        self.record(request, {**fields, "filename": filename, "file_size": size})
        if data is None:
            raise OpenAIError(400, "you must provide a file", param="file")
        if size > MAX_FILE_BYTES:
            raise OpenAIError(
                413,
                f"Maximum content size limit ({MAX_FILE_BYTES}) exceeded ({size} bytes read)",
                "server_error",
            )
        model = fields.get("model", "")
        if not model:
            raise OpenAIError(400, "you must provide a model parameter", param="model")
        if model not in MODELS:
            raise OpenAIError(400, f"Invalid model {model}.", param="model", code="invalid_model")
        if file_format(filename) not in SUPPORTED_FORMATS:
            raise OpenAIError(
                400,
                f"Invalid file format. Supported formats: {list(SUPPORTED_FORMATS)}",
                param="file",
            )
        response_format = fields.get("response_format", "json")
        if response_format not in FORMATS_BY_MODEL[model]:
            raise OpenAIError(
                400,
                f"response_format '{response_format}' is not compatible with model '{model}'. "
                f"Use {' or '.join(repr(f) for f in FORMATS_BY_MODEL[model])}.",
                param="response_format",
                code="unsupported_value",
            )
        return {**fields, "filename": filename, "data": data, "response_format": response_format}

    def _authenticate(self, request: web.Request) -> None:
        key = bearer_key(request)
        if not key or (self.api_keys is not None and key not in self.api_keys):
            raise OpenAIError(401, "Incorrect API key provided.", code="invalid_api_key")

    def _pick(self, filename: str) -> Transcript:
        for i, reply in enumerate(self.scripts):
            if reply.filename_contains is None or reply.filename_contains in filename:
                return self.scripts.pop(i)
        return Transcript()

    # ---- control over HTTP -------------------------------------------------------------------

    async def _c_add(self, request: web.Request) -> web.Response:
        try:
            parsed = json.loads(await request.read())
            items = parsed["transcripts"] if isinstance(parsed, dict) else parsed
            self.script(*transcripts_from_json(json.dumps(items).encode()))
        except (ValueError, KeyError, TypeError) as e:
            return json_response({"ok": False, "error": str(e)}, status=400)
        return json_response({"ok": True, "pending": len(self.scripts)})

    async def _c_list(self, request: web.Request) -> web.Response:
        return json_response(
            {"ok": True, "transcripts": [transcript_to_builtins(t) for t in self.scripts]}
        )

    async def _c_clear(self, request: web.Request) -> web.Response:
        self.scripts.clear()
        return json_response({"ok": True})


def default_text(filename: str, data: bytes) -> str:
    """The deterministic transcript of an unscripted request."""
    return f"Emulated transcript of {filename} ({len(data)} bytes)."


def _complete(reply: Transcript, form: dict[str, Any]) -> Transcript:
    data: bytes = form["data"]
    text = reply.text or default_text(form["filename"], data)
    duration = reply.duration
    if duration is None and reply.segments:
        duration = reply.segments[-1].end
    if duration is None:
        duration = audio_duration(data) or 0.0
    segments = reply.segments or _split(text, duration)
    language = reply.language or LANGUAGES.get(form.get("language", ""), "english")
    return Transcript(text=text, duration=duration, language=language, segments=segments)


def _split(text: str, duration: float) -> list[Segment]:
    """One segment per sentence, the duration shared by character count."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s] or [text]
    total = sum(len(s) for s in sentences) or 1
    segments, at = [], 0.0
    for sentence in sentences:
        end = at + duration * len(sentence) / total
        segments.append(Segment(start=round(at, 2), end=round(end, 2), text=" " + sentence))
        at = end
    return segments


def _render(form: dict[str, Any], t: Transcript) -> web.Response:
    fmt, duration = form["response_format"], t.duration or 0.0
    usage = {"type": "duration", "seconds": max(1, round(duration))}
    if fmt == "text":
        return web.Response(text=t.text + "\n", content_type="text/plain")
    if fmt in ("srt", "vtt"):
        return web.Response(text=_subtitles(t, fmt), content_type="text/plain")
    if fmt == "json":
        return json_response({"text": t.text, "usage": usage})
    segments = [
        {
            "id": i,
            "seek": 0,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "tokens": [50364 + i],
            "temperature": float(form.get("temperature", 0.0)),
            "avg_logprob": -0.25,
            "compression_ratio": 1.2,
            "no_speech_prob": 0.01,
        }
        for i, s in enumerate(t.segments or [])
    ]
    body = {
        "task": "transcribe",
        "language": t.language,
        "duration": duration,
        "text": t.text,
        "segments": segments,
        "usage": usage,
    }
    return json_response(body)


def _subtitles(t: Transcript, fmt: str) -> str:
    def stamp(seconds: float) -> str:
        ms = round(seconds * 1000)
        sep = "," if fmt == "srt" else "."
        hours, minutes, secs = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
        return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms % 1000:03d}"

    lines = [] if fmt == "srt" else ["WEBVTT", ""]
    for i, s in enumerate(t.segments or [], 1):
        if fmt == "srt":
            lines.append(str(i))
        lines += [f"{stamp(s.start)} --> {stamp(s.end)}", s.text.strip(), ""]
    return "\n".join(lines)


def _failure_error(failure: Failure) -> OpenAIError:
    if isinstance(failure, RateLimited):
        seconds = failure.retry_after
        shown = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
        return OpenAIError(
            429,
            failure.message,
            "requests",
            code="rate_limit_exceeded",
            headers={"retry-after": shown, "retry-after-ms": str(round(seconds * 1000))},
        )
    if isinstance(failure, ServerError):
        return OpenAIError(500, failure.message, "server_error")
    assert isinstance(failure, HttpError)
    return OpenAIError(
        failure.status,
        failure.message,
        failure.type,
        param=failure.param,
        code=failure.code,
        headers=dict(failure.headers),
    )

"""The Claude API emulator: Messages (JSON and SSE), token counting, Files, Models.

API:      POST /v1/messages, POST /v1/messages/count_tokens, /v1/files..., GET /v1/models
Control:  /_control/... JSON endpoints mirroring the in-process methods (see `control_routes`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from aiohttp import web

from devkit.emulators._http import EmulatorServer, Server, encode_json, json_response
from devkit.emulators._provider import RecordedCall

from .compose import compose_message, stream_events
from .files import (
    FILE_TTL,
    MAX_EXPIRY_SECONDS,
    MAX_FILE_BYTES,
    MIN_EXPIRY_SECONDS,
    FileStore,
    StoredFile,
    reference_error,
)
from .rules import (
    CacheOutcome,
    PromptCache,
    default_reply,
    pending_server_tool,
    request_kind,
    request_tokens,
    turn_text,
)
from .scripts import (
    HttpError,
    Overloaded,
    PromptTooLong,
    RateLimited,
    Reply,
    StreamBreak,
    replies_from_json,
    reply_to_builtins,
    text_reply,
    tool_loop,
)
from .validation import RuleViolation, Thoughts, check_request

MODELS = {
    "claude-haiku-4-5-20251001": ("Claude Haiku 4.5", 200_000),
    "claude-sonnet-4-6": ("Claude Sonnet 4.6", 200_000),
    "claude-opus-4-6": ("Claude Opus 4.6", 200_000),
}


@dataclasses.dataclass(slots=True)
class RecordedRequest(RecordedCall):
    """A request as the emulator received it (header names lower-cased)."""

    @property
    def betas(self) -> list[str]:
        raw = self.headers.get("anthropic-beta", "")
        return [b.strip() for b in raw.split(",") if b.strip()]


class ApiError(Exception):
    def __init__(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message
        self.headers = headers or {}


class ClaudeEmulator(EmulatorServer):
    """Emulated Anthropic API server (ANTHROPIC_BASE_URL)."""

    def __init__(
        self,
        *,
        api_keys: set[str] | None = None,
        context_window: int = 200_000,
        cache_minimum_tokens: int | None = None,
        files_beta_required: bool = False,
        record: bool = True,
    ) -> None:
        self.api_keys = api_keys
        self.context_window = context_window
        self.files_beta_required = files_beta_required
        self.record = record
        self.scripts: list[Reply] = []
        self.requests: list[RecordedRequest] = []
        self.files = FileStore()
        self.cache = PromptCache(minimum_tokens=cache_minimum_tokens)  # None: per model
        self.thoughts = Thoughts()
        self.clock: Callable[[], float] = time.monotonic
        self._ids = itertools.count(1)
        self._request_seen = asyncio.Event()
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_post("/v1/messages", self._handle_messages)
        app.router.add_post("/v1/messages/count_tokens", self._handle_count_tokens)
        app.router.add_post("/v1/files", self._handle_file_upload)
        app.router.add_get("/v1/files", self._handle_file_list)
        app.router.add_get("/v1/files/{file_id}", self._handle_file_get)
        app.router.add_get("/v1/files/{file_id}/content", self._handle_file_content)
        app.router.add_delete("/v1/files/{file_id}", self._handle_file_delete)
        app.router.add_get("/v1/models", self._handle_models)
        for method, path, handler in self.control_routes():
            app.router.add_route(method, path, handler)
        self._server = Server(app)

    # ---- in-process control ----------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies; each /v1/messages request consumes the first one it matches."""
        self.scripts.extend(replies)

    def script_loop(
        self, *steps: Reply, contains: str | None = None, model: str | None = None
    ) -> None:
        """Queue the replies of one multi-step turn (see :func:`tool_loop`)."""
        self.script(*tool_loop(*steps, contains=contains, model=model))

    def reply_text(self, text: str, **kwargs: Any) -> None:
        self.script(text_reply(text, **kwargs))

    def fail_next(
        self,
        failure: RateLimited | Overloaded | PromptTooLong | StreamBreak | HttpError,
        **kwargs: Any,
    ) -> None:
        """Queue a failure as the next reply (StreamBreak also streams the default reply)."""
        self.script(Reply(failure=failure, **kwargs))

    def message_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    def last_message_request(self) -> RecordedRequest:
        found = self.message_requests()
        if not found:
            raise LookupError("no /v1/messages request received")
        return found[-1]

    def add_file(
        self, data: bytes, filename: str, mime_type: str, *, downloadable: bool = True
    ) -> StoredFile:
        """Put a file in the Files API store (e.g. one a code-execution tool produced)."""
        return self.files.add(data, filename, mime_type, downloadable=downloadable)

    def expire_file(self, file_id: str) -> None:
        """Make a file expire now, as if its 24 h had passed."""
        self.files.files[file_id].expires_at = datetime.now(UTC) - timedelta(seconds=1)

    def reset(self) -> None:
        """Drop scripts, recorded requests, files, the prompt cache and issued thinking;
        the clock is the real one again."""
        self.scripts.clear()
        self.requests.clear()
        self.files = FileStore()
        self.cache.entries.clear()
        self.thoughts = Thoughts()
        self.clock = time.monotonic

    async def wait_for_requests(
        self, count: int, timeout: float = 5.0, path: str = "/v1/messages"
    ) -> None:
        """Wait until at least `count` requests to `path` were received."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while sum(1 for r in self.requests if r.path == path) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fewer than {count} requests to {path}")
            self._request_seen.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._request_seen.wait(), min(remaining, 0.5))

    # ---- helpers ---------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}emu{next(self._ids):08d}"

    def _error(self, e: ApiError) -> web.Response:
        request_id = self._new_id("req_")
        body = {
            "type": "error",
            "error": {"type": e.error_type, "message": e.message},
            "request_id": request_id,
        }
        return json_response(body, status=e.status, headers={"request-id": request_id, **e.headers})

    async def _receive(self, request: web.Request, *, parse_json: bool) -> Any:
        body: Any = None
        if parse_json:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
                self._record(request, None)
                raise ApiError(
                    400,
                    "invalid_request_error",
                    "There was an issue with the request body: invalid JSON",
                ) from None
        self._record(request, body)
        self._authenticate(request)
        return body

    def _record(self, request: web.Request, body: Any) -> None:
        if self.record:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.path,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    query=dict(request.query),
                    body=body,
                    at=self.clock(),
                )
            )
        self._request_seen.set()

    def _authenticate(self, request: web.Request) -> None:
        key = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if key is None and auth.lower().startswith("bearer "):
            key = auth[7:]
        if not key:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if self.api_keys is not None and key not in self.api_keys:
            raise ApiError(401, "authentication_error", "invalid x-api-key")

    def _validate(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request_error", "request body must be a JSON object")
        if not body.get("model"):
            raise ApiError(400, "invalid_request_error", "model: Field required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(
                400, "invalid_request_error", "messages: at least one message is required"
            )
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                raise ApiError(
                    400,
                    "invalid_request_error",
                    f"messages.{i}.role: Input should be 'user' or 'assistant'",
                )
        self._check_files(messages)
        try:
            check_request(body, self.thoughts)
        except RuleViolation as e:
            raise ApiError(400, "invalid_request_error", str(e)) from None
        return body

    def _check_files(self, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self._check_files(item)
        elif isinstance(value, dict):
            source = value.get("source")
            if isinstance(source, dict) and source.get("type") == "file":
                file_id = str(source.get("file_id", ""))
                stored = self.files.live(file_id)
                if stored is None:
                    raise ApiError(404, "not_found_error", f"File not found: {file_id}")
                problem = reference_error(str(value.get("type", "")), stored)
                if problem is not None:
                    raise ApiError(400, "invalid_request_error", problem)
            for item in value.values():
                if isinstance(item, (list, dict)):
                    self._check_files(item)

    def _pick(self, body: dict[str, Any]) -> Reply:
        text: str | None = None
        kind = request_kind(body)
        for i, reply in enumerate(self.scripts):
            if reply.model is not None and reply.model != body.get("model"):
                continue
            if reply.answers is not None and reply.answers != kind:
                continue
            if reply.contains is not None:
                if text is None:
                    text = turn_text(body)
                if reply.contains not in text:
                    continue
            return self.scripts.pop(i)
        return default_reply(body)

    # ---- Messages API ----------------------------------------------------------------------

    async def _handle_messages(self, request: web.Request) -> web.StreamResponse:
        try:
            body = self._validate(await self._receive(request, parse_json=True))
            reply = self._pick(body)
            failure = reply.failure
            if failure is not None and not isinstance(failure, StreamBreak):
                raise _failure_error(failure)
            estimate = request_tokens(body)
            if estimate > self.context_window:
                raise _failure_error(PromptTooLong(tokens=estimate, maximum=self.context_window))
            max_tokens = body.get("max_tokens")
            if not isinstance(max_tokens, int) or max_tokens < 1:
                raise ApiError(400, "invalid_request_error", "max_tokens: Field required")
            thinking = body.get("thinking")
            if isinstance(thinking, dict) and thinking.get("type") == "enabled":
                budget = int(thinking.get("budget_tokens", 0))
                if budget < 1024:
                    raise ApiError(
                        400,
                        "invalid_request_error",
                        "thinking.enabled.budget_tokens: Input should be greater than or equal"
                        " to 1024",
                    )
                if budget >= max_tokens:
                    raise ApiError(
                        400,
                        "invalid_request_error",
                        "`max_tokens` must be greater than `thinking.budget_tokens`",
                    )
            if not reply.content:
                reply = dataclasses_replace_content(reply, default_reply(body))
            cache = (
                self.cache.apply(body, self.clock())
                if reply.usage.cache_read_input_tokens is None
                else CacheOutcome()
            )
            message = compose_message(
                reply,
                body,
                message_id=self._new_id("msg_"),
                new_id=self._new_id,
                input_estimate=estimate,
                cache=cache,
                pending_server_tool=pending_server_tool(body),
            )
            self.thoughts.issue(message["content"])
        except ApiError as e:
            return self._error(e)
        if body.get("stream"):
            return await self._stream(request, reply, message)
        if isinstance(failure, StreamBreak):
            _drop_connection(request)
            return web.Response(status=500)
        if reply.first_token_delay:
            await asyncio.sleep(reply.first_token_delay)
        return json_response(message, headers={"request-id": self._new_id("req_")})

    async def _stream(
        self, request: web.Request, reply: Reply, message: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "request-id": self._new_id("req_"),
            }
        )
        await response.prepare(request)
        failure = reply.failure if isinstance(reply.failure, StreamBreak) else None
        events = list(stream_events(message, reply.chunk_size))
        if failure is not None:
            events = events[: failure.after_events]
        delay = reply.chunk_delay
        if not delay and not reply.first_token_delay:
            await response.write(b"".join(_sse(name, data) for name, data in events))
        else:
            for name, data in events:
                if name == "content_block_start" and data["index"] == 0 and reply.first_token_delay:
                    await asyncio.sleep(reply.first_token_delay)
                elif name == "content_block_delta" and delay:
                    await asyncio.sleep(delay)
                await response.write(_sse(name, data))
        if failure is not None:
            if failure.mode == "disconnect":
                _drop_connection(request)
                return response
            error = {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"},
            }
            await response.write(_sse("error", error))
        await response.write_eof()
        return response

    async def _handle_count_tokens(self, request: web.Request) -> web.Response:
        try:
            body = self._validate(await self._receive(request, parse_json=True))
        except ApiError as e:
            return self._error(e)
        return json_response({"input_tokens": request_tokens(body)})

    async def _handle_models(self, request: web.Request) -> web.Response:
        try:
            await self._receive(request, parse_json=False)
        except ApiError as e:
            return self._error(e)
        data = [
            {"type": "model", "id": mid, "display_name": name, "created_at": "2025-10-01T00:00:00Z"}
            for mid, (name, _ctx) in MODELS.items()
        ]
        return json_response(
            {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        )

    # ---- Files API -------------------------------------------------------------------------

    def _files_guard(self, request: web.Request) -> None:
        if self.files_beta_required and not any(
            b.startswith("files-api-") for b in request.headers.get("anthropic-beta", "").split(",")
        ):
            raise ApiError(
                400,
                "invalid_request_error",
                "The Files API requires the anthropic-beta header files-api-2025-04-14",
            )

    async def _handle_file_upload(self, request: web.Request) -> web.Response:
        try:
            await self._receive(request, parse_json=False)
            self._files_guard(request)
            if not request.content_type.startswith("multipart/"):
                raise ApiError(400, "invalid_request_error", "file: Field required")
            form = await request.post()
            upload = form.get("file")
            if not isinstance(upload, web.FileField):
                raise ApiError(400, "invalid_request_error", "file: Field required")
            data = upload.file.read()
            if not data:
                raise ApiError(400, "invalid_request_error", "file: empty file")
            if len(data) > MAX_FILE_BYTES:
                raise ApiError(413, "request_too_large", "file: larger than 500 MB")
            stored = self.files.add(
                data,
                upload.filename,
                upload.content_type or "application/octet-stream",
                expires_in=_expires_in(form.get("expires_in_seconds")),
            )
            if self.record:  # an emulator that records nothing has no request to annotate
                self.requests[-1].body = {
                    "filename": upload.filename,
                    "mime_type": stored.mime_type,
                    "size": len(data),
                }
        except ApiError as e:
            return self._error(e)
        return json_response(stored.metadata())

    def _file(self, request: web.Request) -> StoredFile:
        stored = self.files.live(request.match_info["file_id"])
        if stored is None:
            raise ApiError(
                404, "not_found_error", f"File not found: {request.match_info['file_id']}"
            )
        return stored

    async def _handle_file_get(self, request: web.Request) -> web.Response:
        try:
            await self._receive(request, parse_json=False)
            self._files_guard(request)
            stored = self._file(request)
        except ApiError as e:
            return self._error(e)
        return json_response(stored.metadata())

    async def _handle_file_content(self, request: web.Request) -> web.Response:
        try:
            await self._receive(request, parse_json=False)
            self._files_guard(request)
            stored = self._file(request)
            if not stored.downloadable:
                raise ApiError(
                    400, "invalid_request_error", f"File {stored.id} is not downloadable"
                )
        except ApiError as e:
            return self._error(e)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _handle_file_delete(self, request: web.Request) -> web.Response:
        try:
            await self._receive(request, parse_json=False)
            self._files_guard(request)
            stored = self._file(request)
        except ApiError as e:
            return self._error(e)
        del self.files.files[stored.id]
        return json_response({"id": stored.id, "type": "file_deleted"})

    async def _handle_file_list(self, request: web.Request) -> web.Response:
        try:
            await self._receive(request, parse_json=False)
            self._files_guard(request)
            limit = max(1, min(1000, int(request.query.get("limit", "20"))))
        except ValueError:
            return self._error(
                ApiError(400, "invalid_request_error", "limit: Input should be a valid integer")
            )
        except ApiError as e:
            return self._error(e)
        page, next_page = self.files.page(
            limit, request.query.get("page") or request.query.get("after_id")
        )
        data = [f.metadata() for f in page]
        return json_response(
            {
                "data": data,
                "has_more": next_page is not None,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "next_page": next_page,
            }
        )

    # ---- control over HTTP ----------------------------------------------------------------

    def control_routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/_control/replies", self._c_add_replies),
            ("DELETE", "/_control/replies", self._c_clear_replies),
            ("GET", "/_control/replies", self._c_list_replies),
            ("GET", "/_control/requests", self._c_requests),
            ("POST", "/_control/reset", self._c_reset),
            ("POST", "/_control/files", self._c_add_file),
            ("POST", "/_control/files/{file_id}/expire", self._c_expire_file),
        ]

    async def _c_add_replies(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            parsed = json.loads(raw)
            replies = replies_from_json(
                encode_json(parsed["replies"] if isinstance(parsed, dict) else parsed)
            )
            loop = parsed.get("loop") if isinstance(parsed, dict) else None
            if isinstance(loop, dict):
                replies = tool_loop(
                    *replies, contains=loop.get("contains"), model=loop.get("model")
                )
            elif loop is not None:
                raise ValueError("loop must be an object: {contains?, model?}")
        except (ValueError, KeyError) as e:
            return json_response({"ok": False, "error": str(e)}, status=400)
        self.script(*replies)
        return json_response({"ok": True, "pending": len(self.scripts)})

    async def _c_clear_replies(self, request: web.Request) -> web.Response:
        self.scripts.clear()
        return json_response({"ok": True})

    async def _c_list_replies(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "replies": [reply_to_builtins(r) for r in self.scripts]})

    async def _c_requests(self, request: web.Request) -> web.Response:
        path = request.query.get("path")
        found = [dataclasses.asdict(r) for r in self.requests if path is None or r.path == path]
        return json_response({"ok": True, "requests": found})

    async def _c_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return json_response({"ok": True})

    async def _c_add_file(self, request: web.Request) -> web.Response:
        body = await request.json()
        stored = self.add_file(
            base64.b64decode(body["data_b64"]),
            body.get("filename", "file.bin"),
            body.get("mime_type", "application/octet-stream"),
            downloadable=bool(body.get("downloadable", True)),
        )
        return json_response({"ok": True, "file": stored.metadata()})

    async def _c_expire_file(self, request: web.Request) -> web.Response:
        try:
            self.expire_file(request.match_info["file_id"])
        except KeyError:
            return json_response({"ok": False, "error": "file not found"}, status=404)
        return json_response({"ok": True})


def _expires_in(raw: object) -> timedelta:
    """The upload's ``expires_in_seconds`` form field (24 h when absent)."""
    if raw is None or raw == "":
        return FILE_TTL
    try:
        seconds = int(str(raw))
    except ValueError:
        raise ApiError(
            400, "invalid_request_error", "expires_in_seconds: Input should be a valid integer"
        ) from None
    if not MIN_EXPIRY_SECONDS <= seconds <= MAX_EXPIRY_SECONDS:
        raise ApiError(
            400,
            "invalid_request_error",
            f"expires_in_seconds: must be between {MIN_EXPIRY_SECONDS} and {MAX_EXPIRY_SECONDS}",
        )
    return timedelta(seconds=seconds)


def dataclasses_replace_content(reply: Reply, default: Reply) -> Reply:
    """A failure-only or usage-only script still answers with the default content."""
    return msgspec.structs.replace(reply, content=default.content)


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + encode_json(data) + b"\n\n"


def _drop_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def _failure_error(failure: RateLimited | Overloaded | PromptTooLong | HttpError) -> ApiError:
    if isinstance(failure, RateLimited):
        return ApiError(
            429, "rate_limit_error", failure.message, {"retry-after": _num(failure.retry_after)}
        )
    if isinstance(failure, Overloaded):
        return ApiError(529, "overloaded_error", failure.message)
    if isinstance(failure, PromptTooLong):
        return ApiError(
            400,
            "invalid_request_error",
            f"prompt is too long: {failure.tokens} tokens > {failure.maximum} maximum",
        )
    return ApiError(failure.status, failure.error_type, failure.message, dict(failure.headers))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)

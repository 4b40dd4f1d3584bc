"""A streamed Messages API call over aiohttp, its server-sent events decoded with msgspec.

The thread worker's hot path: per turn the anthropic SDK (httpx, pydantic models for every
event, a deep copy of the request, a connection-pool scan that polls every idle socket)
cost more CPU than the rest of the worker together, and importing it most of a start's.
This client sends the same request (the SDK's headers: :mod:`infra.threads.claude_api`) and
reads the same events as plain dicts; HTTP errors and ``error`` events become
:class:`~actors.thread.errors.ModelFailure` with the same classification as
:func:`infra.threads.claude_client.translate` gives SDK exceptions. The small non-streamed
calls (topic titles) go the same way (:meth:`MessagesStreamer.create`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import aiohttp
import msgspec

from actors.thread.errors import FailureKind, ModelFailure

_decode: Final = msgspec.json.Decoder(dict[str, Any]).decode
_encode: Final = msgspec.json.Encoder().encode


class StreamFailure(Exception):
    """The call failed; ``failure`` says how (raised before or while streaming)."""

    def __init__(self, failure: ModelFailure) -> None:
        super().__init__(f"{failure.kind}: {failure.detail}")
        self.failure = failure


def status_failure(
    status: int, body: Any, headers: Mapping[str, str], *, streamed: bool = False
) -> ModelFailure:
    """The failure for an HTTP error answer (or an ``error`` event when ``streamed``)."""
    error = body.get("error") if isinstance(body, dict) else None
    error_type = str(error.get("type", "")) if isinstance(error, dict) else ""
    message = str(error.get("message", "")) if isinstance(error, dict) else str(body or "")
    if status == 200 or streamed:
        return ModelFailure(
            "stream_broken", f"{error_type}: {message}", status=status, streamed=streamed
        )
    kind: FailureKind
    if status == 429:
        kind = "rate_limited"
    elif status == 529 or error_type == "overloaded_error":
        kind = "overloaded"
    elif status == 400:
        kind = "prompt_too_long" if "prompt is too long" in message else "invalid_request"
    elif status in (401, 403):
        kind = "auth"
    elif status == 413:
        kind = "invalid_request"
    else:
        kind = "api_error"
    raw_retry = headers.get("retry-after")
    try:
        retry_after = float(raw_retry) if raw_retry else None
    except ValueError:
        retry_after = None
    return ModelFailure(
        kind, message or f"Error code: {status}", status=status, retry_after=retry_after
    )


class MessagesStreamer:
    """POSTs ``/v1/messages`` with ``stream: true`` and yields the decoded events."""

    def __init__(self, base_url: str, headers: Mapping[str, str]) -> None:
        self.url = base_url.rstrip("/") + "/v1/messages"
        plain = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "accept")}
        json_body = {**plain, "Content-Type": "application/json"}
        self.json_headers = {**json_body, "Accept": "application/json"}
        self.headers = {**json_body, "Accept": "text/event-stream"}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """One non-streamed call: the message (a JSON dict); raises :class:`StreamFailure`."""
        fields = dict(body)
        betas = fields.pop("betas", None)
        headers = self.json_headers
        if betas:
            headers = {**headers, "anthropic-beta": ",".join(betas)}
        try:
            async with self._client().post(
                self.url, data=_encode(fields), headers=headers
            ) as response:
                raw = await response.read()
                if response.status != 200:
                    raise StreamFailure(
                        status_failure(response.status, _error_body(raw), response.headers)
                    )
                return _decode(raw)
        except (aiohttp.ClientError, msgspec.DecodeError) as exc:
            raise StreamFailure(ModelFailure("api_error", str(exc) or type(exc).__name__)) from exc

    async def events(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The stream's events (``ping`` left out); raises :class:`StreamFailure`.

        A ``betas`` list in ``body`` (as the SDK's beta client takes it) is sent as the
        ``anthropic-beta`` header, not in the body."""
        fields = dict(body)
        betas = fields.pop("betas", None)
        headers = self.headers
        if betas:
            headers = {**headers, "anthropic-beta": ",".join(betas)}
        data = _encode({**fields, "stream": True})
        started = False
        try:
            async with self._client().post(self.url, data=data, headers=headers) as response:
                if response.status != 200:
                    raw = await response.read()
                    raise StreamFailure(
                        status_failure(response.status, _error_body(raw), response.headers)
                    )
                async for payload in _data_lines(response.content):
                    event = _decode(payload)
                    kind = event.get("type")
                    if kind == "ping":
                        continue
                    if kind == "error":
                        raise StreamFailure(status_failure(200, event, {}, streamed=started))
                    if kind == "message_start":
                        started = True
                    yield event
        except (aiohttp.ClientError, msgspec.DecodeError) as exc:
            kind_: FailureKind = "stream_broken" if started else "api_error"
            raise StreamFailure(
                ModelFailure(kind_, str(exc) or type(exc).__name__, streamed=started)
            ) from exc


def _error_body(raw: bytes) -> Any:
    """An error answer's body: its JSON, else its text."""
    try:
        return _decode(raw)
    except msgspec.DecodeError:
        return raw.decode("utf-8", "replace")


async def _data_lines(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """The payloads of the stream's ``data:`` lines, however long (a server tool's result
    block can exceed aiohttp's line limit) and however the chunks split them."""
    pending = b""
    async for chunk in content.iter_any():
        pending += chunk
        if b"\n" not in chunk:
            continue
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                payload = line[5:].strip()
                if payload:
                    yield payload
    if pending.startswith(b"data:") and pending[5:].strip():
        yield pending[5:].strip()

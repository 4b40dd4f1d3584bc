"""Common plumbing of the provider emulators (Whisper, Gemini, E2B): lifecycle on a loopback
port, recorded requests, waiting for requests, and the generic control routes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from typing import Any, Self

from aiohttp import web

from devkit.emulators._http import Server, json_response


@dataclasses.dataclass(slots=True)
class RecordedCall:
    """One API call as the emulator understood it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any
    at: float


class ProviderEmulator:
    """Base of an emulated provider API: subclasses add routes to `self.app` and call
    `self.record(...)` for each API request; `reset` clears scripts and recordings."""

    def __init__(self, *, client_max_size: int = 64 * 1024 * 1024) -> None:
        self.calls: list[RecordedCall] = []
        self._seen = asyncio.Event()
        self.app = web.Application(client_max_size=client_max_size)
        self.app.router.add_get("/_control/requests", self._c_requests)
        self.app.router.add_post("/_control/reset", self._c_reset)
        self._server = Server(self.app)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0: a free port); returns the base URL."""
        return await self._server.start(host, port)

    async def stop(self) -> None:
        await self._server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def reset(self) -> None:
        self.calls.clear()

    def record(self, request: web.Request, body: Any) -> RecordedCall:
        call = RecordedCall(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            query=dict(request.query),
            body=body,
            at=time.monotonic(),
        )
        self.calls.append(call)
        self._seen.set()
        return call

    def calls_to(self, fragment: str) -> list[RecordedCall]:
        """Recorded calls whose path contains `fragment`."""
        return [c for c in self.calls if fragment in c.path]

    async def wait_for_calls(self, count: int, fragment: str = "", timeout: float = 5.0) -> None:
        """Wait until at least `count` calls whose path contains `fragment` were received."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.calls_to(fragment)) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fewer than {count} calls to {fragment!r}")
            self._seen.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._seen.wait(), min(remaining, 0.5))

    async def _c_requests(self, request: web.Request) -> web.Response:
        fragment = request.query.get("path", "")
        found = [dataclasses.asdict(c) for c in self.calls_to(fragment)]
        return json_response({"ok": True, "requests": found})

    async def _c_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return json_response({"ok": True})


def bearer_key(request: web.Request) -> str:
    auth = request.headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else ""

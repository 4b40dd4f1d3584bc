"""Shared aiohttp plumbing for the emulators: start/stop a server, the lifecycle every
emulator shares, JSON responses, a client that goes away mid-response taken quietly."""

from __future__ import annotations

import logging
from typing import Any, Self

import msgspec
from aiohttp import web

log = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder()


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_encoder.encode(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def encode_json(data: Any) -> bytes:
    return _encoder.encode(data)


@web.middleware
async def quiet_when_client_left(request: web.Request, handler: Any) -> web.StreamResponse:
    """A handler writing to a client that went away (a cancelled long poll or stream, a
    stopped service) ends with a debug line instead of aiohttp's error traceback; any other
    error, and a connection error while the client is still there, stays loud."""
    try:
        response: web.StreamResponse = await handler(request)
    except ConnectionResetError as exc:
        transport = request.transport
        if transport is not None and not transport.is_closing():
            raise
        log.debug("client left during %s %s: %s", request.method, request.path, exc)
        return web.Response(status=499)  # written nowhere: the connection is gone
    return response


class Server:
    """An aiohttp app on a loopback port; `start` returns the base URL."""

    def __init__(self, app: web.Application) -> None:
        app.middlewares.insert(0, quiet_when_client_left)
        self.app = app
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self, host: str, port: int) -> str:
        if self._runner is not None:
            return self.base_url
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        self._runner = runner
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound_port = sockets[0].getsockname()[1] if sockets else port
        shown_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class EmulatorServer:
    """The lifecycle every emulator shares: its app on a loopback port, ``start``/``stop`` or
    ``async with``. A subclass builds its ``web.Application`` and sets ``self._server``."""

    _server: Server

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0: a free port); returns the base URL (the client's base URL
        setting: TELEGRAM_API_URL, ANTHROPIC_BASE_URL, ...)."""
        return await self._server.start(host, port)

    async def stop(self) -> None:
        await self._server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

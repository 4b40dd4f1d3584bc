"""The E2B emulator: the control plane REST API (create, get, timeout, kill sandboxes) and, at
the same address, the in-sandbox services: envd's /files and /health and the code
interpreter's /execute, told apart as the real proxy does by the E2b-Sandbox-Id header."""

from __future__ import annotations

import itertools
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import filemode
from typing import Any

from aiohttp import web

from devkit.emulators._http import json_response
from devkit.emulators._provider import ProviderEmulator

from .process import run_command, unwrap
from .runner import run_cell

ENVD_VERSION = "0.6.4"
HOME = "/home/user"


@dataclass(slots=True)
class EmulatedSandbox:
    sandbox_id: str
    template: str
    root: Path
    access_token: str
    env: dict[str, str]
    metadata: dict[str, str]
    timeout: int
    started_at: float
    deadline: float  # started_at + timeout, moved by set_timeout; past it the sandbox is gone
    ended_at: float | None = None
    executions: int = 0
    codes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def billable_seconds(self, now: float) -> int:
        """Whole seconds from create to kill or expiry (to `now` while running), at least 1."""
        end = self.ended_at if self.ended_at is not None else now
        return max(1, math.ceil(end - self.started_at))

    def path(self, raw: str) -> Path:
        """Where a sandbox path lives on this machine (relative paths from /home/user)."""
        full = raw if raw.startswith("/") else f"{HOME}/{raw}"
        resolved = (self.root / full.lstrip("/")).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise _error(400, f"path '{raw}' is outside the sandbox")
        return resolved


@dataclass(slots=True)
class ApiFailure:
    """A scripted control-plane failure for the next create: status and message."""

    status: int
    message: str


class E2BEmulator(ProviderEmulator):
    """Emulated E2B API and sandboxes; see the package docstring for the SDK settings."""

    def __init__(self, *, api_keys: set[str] | None = None, execution_limit: float = 60.0) -> None:
        super().__init__()
        self.app.middlewares.append(_errors)
        self.api_keys = api_keys
        self.execution_limit = execution_limit
        self.sandboxes: dict[str, EmulatedSandbox] = {}
        self.create_failures: list[ApiFailure] = []
        self.clock_offset = 0.0
        self.frozen_at: float | None = None
        self._ids = itertools.count(1)
        r = self.app.router
        r.add_post("/v2/sandboxes", self._create)
        r.add_post("/sandboxes", self._create)
        r.add_get("/sandboxes/{sandbox_id}", self._get)
        r.add_post("/sandboxes/{sandbox_id}/timeout", self._set_timeout)
        r.add_delete("/sandboxes/{sandbox_id}", self._kill)
        r.add_get("/files", self._read_file)
        r.add_post("/files", self._write_file)
        r.add_get("/health", self._health)
        r.add_post("/execute", self._execute)
        r.add_post("/filesystem.Filesystem/ListDir", self._list_dir)
        r.add_post("/filesystem.Filesystem/Remove", self._remove)
        r.add_post("/process.Process/Start", self._start_process)

    def fail_next_create(self, status: int, message: str = "emulated failure") -> None:
        """The next sandbox create answers `status` (429, 500, ...) with E2B's error body."""
        self.create_failures.append(ApiFailure(status, message))

    def now(self) -> float:
        """The emulator's clock: monotonic time (or the frozen instant) plus `advance`s."""
        base = self.frozen_at if self.frozen_at is not None else time.monotonic()
        return base + self.clock_offset

    def freeze_clock(self) -> None:
        """Stop the clock (only `advance` moves it): exact billable seconds in tests."""
        self.frozen_at = time.monotonic()

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock on (billing and sandbox timeouts, without waiting)."""
        self.clock_offset += seconds

    def billable_seconds(self, sandbox_id: str) -> int:
        self._expire()
        return self.sandboxes[sandbox_id].billable_seconds(self.now())

    def running(self) -> list[EmulatedSandbox]:
        self._expire()
        return [s for s in self.sandboxes.values() if s.ended_at is None]

    def _expire(self) -> None:
        """End every sandbox whose timeout passed, at its deadline, as E2B does."""
        now = self.now()
        for sandbox in self.sandboxes.values():
            if sandbox.ended_at is None and sandbox.deadline <= now:
                sandbox.ended_at = sandbox.deadline
                shutil.rmtree(sandbox.root, ignore_errors=True)

    def reset(self) -> None:
        super().reset()
        self.create_failures.clear()
        self.clock_offset = 0.0
        self.frozen_at = None
        for sandbox in self.sandboxes.values():
            shutil.rmtree(sandbox.root, ignore_errors=True)
        self.sandboxes.clear()

    async def stop(self) -> None:
        self.reset()
        await super().stop()

    # ---- control plane -----------------------------------------------------------------------

    def _authenticate(self, request: web.Request) -> None:
        key = request.headers.get("x-api-key", "")
        if not key or (self.api_keys is not None and key not in self.api_keys):
            raise _error(401, "Invalid API key")

    def _sandbox(self, sandbox_id: str) -> EmulatedSandbox:
        self._expire()
        sandbox = self.sandboxes.get(sandbox_id)
        if sandbox is None or sandbox.ended_at is not None:
            raise _error(404, f"sandbox \"{sandbox_id}\" doesn't exist or you don't have access")
        return sandbox

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.record(request, body)
        self._authenticate(request)
        if self.create_failures:
            failure = self.create_failures.pop(0)
            raise _error(failure.status, failure.message)
        sandbox_id = f"emu{next(self._ids):06d}"
        timeout, now = int(body.get("timeout") or 300), self.now()
        root = Path(tempfile.mkdtemp(prefix=f"e2b-{sandbox_id}-"))
        (root / HOME.lstrip("/")).mkdir(parents=True)
        template = str(body.get("templateID") or "base")
        self.sandboxes[sandbox_id] = EmulatedSandbox(
            sandbox_id=sandbox_id,
            template=template,
            root=root,
            access_token=f"envd-token-{sandbox_id}",
            env={str(k): str(v) for k, v in (body.get("envVars") or {}).items()},
            metadata={str(k): str(v) for k, v in (body.get("metadata") or {}).items()},
            timeout=timeout,
            started_at=now,
            deadline=now + timeout,
        )
        answer = {
            "templateID": template,
            "sandboxID": sandbox_id,
            "clientID": "emulator",
            "envdVersion": ENVD_VERSION,
            "envdAccessToken": self.sandboxes[sandbox_id].access_token,
        }
        return json_response(answer, status=201)

    async def _get(self, request: web.Request) -> web.Response:
        self.record(request, None)
        self._authenticate(request)
        s = self._sandbox(request.match_info["sandbox_id"])
        return json_response(
            {
                "templateID": s.template,
                "sandboxID": s.sandbox_id,
                "clientID": "emulator",
                "envdVersion": ENVD_VERSION,
                "state": "running",
                "metadata": s.metadata,
                "cpuCount": 2,
                "memoryMB": 512,
                "diskSizeMB": 1024,
                "startedAt": "2026-01-01T00:00:00Z",
                "endAt": "2026-01-01T00:05:00Z",
            }
        )

    async def _set_timeout(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.record(request, body)
        self._authenticate(request)
        sandbox = self._sandbox(request.match_info["sandbox_id"])
        sandbox.timeout = int(body.get("timeout", 0))
        sandbox.deadline = self.now() + sandbox.timeout
        return web.Response(status=204)

    async def _kill(self, request: web.Request) -> web.Response:
        self.record(request, None)
        self._authenticate(request)
        sandbox = self._sandbox(request.match_info["sandbox_id"])
        sandbox.ended_at = self.now()
        shutil.rmtree(sandbox.root, ignore_errors=True)
        return web.Response(status=204)

    # ---- inside a sandbox --------------------------------------------------------------------

    def _in_sandbox(self, request: web.Request) -> EmulatedSandbox:
        sandbox = self._sandbox(request.headers.get("e2b-sandbox-id", ""))
        token = request.headers.get("x-access-token")
        if token is not None and token != sandbox.access_token:
            raise _error(401, "invalid access token")
        return sandbox

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _read_file(self, request: web.Request) -> web.Response:
        self.record(request, None)
        sandbox = self._in_sandbox(request)
        target = sandbox.path(request.query.get("path", ""))
        if not target.is_file():
            raise _error(404, f"path '{request.query.get('path')}' does not exist")
        return web.Response(body=target.read_bytes(), content_type="application/octet-stream")

    async def _write_file(self, request: web.Request) -> web.Response:
        sandbox = self._in_sandbox(request)
        written: list[dict[str, Any]] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                raw_path = request.query.get("path") or getattr(part, "filename", None) or ""
                data = await part.read()  # type: ignore[union-attr]
                written.append(self._store(sandbox, raw_path, bytes(data)))
        else:
            written.append(
                self._store(sandbox, request.query.get("path", ""), await request.read())
            )
        self.record(request, {"written": written})
        return json_response(written)

    def _store(self, sandbox: EmulatedSandbox, raw_path: str, data: bytes) -> dict[str, Any]:
        target = sandbox.path(raw_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        shown = "/" + str(target.relative_to(sandbox.root))
        return {"name": target.name, "type": "file", "path": shown}

    async def _list_dir(self, request: web.Request) -> web.Response:
        """Connect-RPC unary, JSON codec (the SDK's): entries down to `depth` levels."""
        body = await request.json()
        self.record(request, body)
        sandbox = self._in_sandbox(request)
        top = sandbox.path(str(body.get("path", "")))
        if not top.is_dir():
            return _connect_error("not_found", f"directory '{body.get('path')}' not found")
        depth = max(int(body.get("depth") or 1), 1)
        entries = [
            _entry(sandbox, p)
            for p in sorted(top.rglob("*"))
            if len(p.relative_to(top).parts) <= depth and ".emulator" not in p.parts
        ]
        return json_response({"entries": entries})

    async def _remove(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.record(request, body)
        target = self._in_sandbox(request).path(str(body.get("path", "")))
        if not target.exists():
            return _connect_error("not_found", f"path '{body.get('path')}' not found")
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
        return json_response({})

    async def _start_process(self, request: web.Request) -> web.StreamResponse:
        body = unwrap(await request.read())
        self.record(request, body)
        sandbox = self._in_sandbox(request)
        config = body.get("process") or {}
        args = [str(a) for a in config.get("args") or []]
        command = args[-1] if args else ""
        sandbox.commands.append(command)
        home = sandbox.root / HOME.lstrip("/")
        cwd = sandbox.path(str(config["cwd"])) if config.get("cwd") else home
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **sandbox.env}
        env.update({str(k): str(v) for k, v in (config.get("envs") or {}).items()})
        response = web.StreamResponse(headers={"content-type": "application/connect+json"})
        await response.prepare(request)
        pid = 1000 + len(sandbox.commands)
        async for chunk in run_command(command, cwd, env, self.execution_limit, pid):
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _execute(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.record(request, body)
        sandbox = self._in_sandbox(request)
        sandbox.executions += 1
        sandbox.codes.append(str(body.get("code", "")))
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(sandbox.root / HOME.lstrip("/"))}
        env.update(sandbox.env)
        env.update({str(k): str(v) for k, v in (body.get("env_vars") or {}).items()})
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        async for line in run_cell(
            sandbox.codes[-1],
            sandbox.root / HOME.lstrip("/"),
            sandbox.root / ".emulator",
            timeout=self.execution_limit,
            env=env,
            count=sandbox.executions,
        ):
            await response.write(line)
        await response.write_eof()
        return response


def _entry(sandbox: EmulatedSandbox, path: Path) -> dict[str, Any]:
    stat = path.stat()
    modified = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "name": path.name,
        "type": "FILE_TYPE_DIRECTORY" if path.is_dir() else "FILE_TYPE_FILE",
        "path": "/" + str(path.relative_to(sandbox.root)),
        "size": str(stat.st_size),
        "mode": stat.st_mode & 0o777,
        "permissions": filemode(stat.st_mode),
        "owner": "user",
        "group": "user",
        "modifiedTime": modified,
    }


def _connect_error(code: str, message: str) -> web.Response:
    status = {"not_found": 404, "invalid_argument": 400}.get(code, 500)
    return json_response({"code": code, "message": message}, status=status)


class E2BError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _error(status: int, message: str) -> E2BError:
    return E2BError(status, message)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """E2B's error body {"code", "message"} for an E2BError raised by a handler."""
    try:
        response: web.StreamResponse = await handler(request)
    except E2BError as e:
        return json_response({"code": e.status, "message": e.message}, status=e.status)
    return response

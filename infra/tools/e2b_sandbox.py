"""``execute_python``'s sandboxes: one E2B Code Interpreter sandbox per thread, reused while
warm and closed when idle.

* A thread's first run creates its sandbox (E2B's own timeout is set to the idle timeout
  plus the run's, so a sandbox this process forgets, e.g. after a crash, still ends); later
  runs reuse it while it is warm. A reaper task closes the sandboxes idle for longer than
  ``idle_timeout``; :meth:`E2BSandboxes.close` kills every one (worker shutdown). A warm
  sandbox that E2B already ended is replaced once, transparently.
* A run: uploads written to the sandbox's home, ``pip install`` of the packages asked for,
  the code run with a time limit, then the files the run wrote (new or changed since just
  before the code ran, in any subfolder; hidden paths skipped) read back, up to
  :data:`MAX_FILES` files of at most :data:`MAX_FILE_BYTES` each. Images the code displays
  (``Result.png`` / ``jpeg``) are collected as files too.
* Seconds charged: the run's own wall time in the sandbox (creation or reuse, uploads,
  installs, code, file scan), rounded up to whole seconds. The warm idle time between runs
  is the operator's, bounded by the idle timeout.
* Failures are :class:`ToolFailure`: ``rate_limited`` (E2B's 429 after the SDK's own
  retries), ``timeout``, ``provider_error`` (5xx, the sandbox unreachable), ``invalid_input``
  (a package pip cannot install). A failed run carries no quantities: nothing is charged.
  An exception raised by the code itself is not a failure: it is the run's ``error``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import math
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from e2b import (
    AuthenticationException,
    CommandExitException,
    NotFoundException,
    RateLimitException,
    SandboxException,
    TimeoutException,
)
from e2b.exceptions import SandboxNotRunningException, SandboxUnreachableException
from e2b_code_interpreter import (  # type: ignore[import-untyped]  # the SDK has no py.typed
    AsyncSandbox,
    Execution,
)

from actors.thread.tools.failure import ToolFailure
from actors.thread.tools.providers import OutputFile, SandboxRun, SkippedFile, Upload

log = logging.getLogger(__name__)

HOME: Final = "/home/user"
MAX_FILES: Final = 10
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
"""A generated file larger than this is not collected (Telegram bots download 20 MB)."""
SCAN_DEPTH: Final = 6
MAX_STREAM_CHARS: Final = 200_000
"""stdout/stderr kept from one run before the tool cuts it for the model."""


@dataclass(slots=True)
class _Warm:
    sandbox: AsyncSandbox | None = None
    last_used: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True, slots=True)
class E2BConfig:
    api_key: str
    api_url: str | None = None
    sandbox_url: str | None = None
    http_version: str | None = None
    template: str | None = None
    idle_timeout: float = 300.0


class E2BSandboxes:
    """:class:`~actors.thread.tools.providers.SandboxPort` on E2B (see the module doc)."""

    def __init__(self, config: E2BConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._warm: dict[str, _Warm] = {}
        self._reaper: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"api_key": self.config.api_key}
        for name in ("api_url", "sandbox_url", "http_version"):
            value = getattr(self.config, name)
            if value:
                options[name] = value
        return options

    def warm(self) -> dict[str, str]:
        """Thread key -> sandbox id of the sandboxes kept warm now."""
        return {k: w.sandbox.sandbox_id for k, w in self._warm.items() if w.sandbox is not None}

    async def close_idle(self) -> list[str]:
        """Close the sandboxes idle for longer than the idle timeout; their thread keys."""
        now = self.clock()
        closed = []
        for key, warm in list(self._warm.items()):
            if warm.lock.locked() or warm.sandbox is None:
                continue
            if now - warm.last_used >= self.config.idle_timeout:
                await self._kill(warm)
                self._warm.pop(key, None)
                closed.append(key)
        return closed

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for warm in list(self._warm.values()):
            await self._kill(warm)
        self._warm.clear()

    async def _reap(self) -> None:
        every = max(1.0, min(self.config.idle_timeout / 4, 30.0))
        while True:
            await asyncio.sleep(every)
            try:
                await self.close_idle()
            except Exception:
                log.exception("closing idle sandboxes failed")

    async def _kill(self, warm: _Warm) -> None:
        sandbox, warm.sandbox = warm.sandbox, None
        if sandbox is None:
            return
        try:
            await sandbox.kill()
        except Exception as exc:  # E2B ends it at its own timeout anyway
            log.info("sandbox not killed", extra={"fields": {"error": str(exc)}})

    async def _sandbox(self, warm: _Warm, timeout: float) -> tuple[AsyncSandbox, bool]:
        lifetime = int(self.config.idle_timeout + timeout + 60)
        if warm.sandbox is not None:
            try:
                await warm.sandbox.set_timeout(lifetime)
                return warm.sandbox, True
            except NotFoundException:
                warm.sandbox = None  # E2B ended it: start a new one
        options = self._options()
        if self.config.template:
            options["template"] = self.config.template
        warm.sandbox = await AsyncSandbox.create(timeout=lifetime, **options)
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap())
        return warm.sandbox, False

    # ------------------------------------------------------------------ a run

    async def run(
        self,
        key: str,
        code: str,
        *,
        packages: Sequence[str],
        uploads: Sequence[Upload],
        timeout: float,
    ) -> SandboxRun:
        warm = self._warm.setdefault(key, _Warm())
        async with warm.lock:
            started = self.clock()
            try:
                return await self._run(warm, code, packages, uploads, timeout, started)
            except ToolFailure:
                raise
            except Exception as exc:
                failure = _translate(exc)
                if failure.error_class in ("provider_error", "timeout"):
                    await self._kill(warm)  # a sandbox in an unknown state is not reused
                raise failure from exc
            finally:
                warm.last_used = self.clock()

    async def _run(
        self,
        warm: _Warm,
        code: str,
        packages: Sequence[str],
        uploads: Sequence[Upload],
        timeout: float,
        started: float,
    ) -> SandboxRun:
        sandbox, reused = await self._sandbox(warm, timeout)
        for upload in uploads:
            await sandbox.files.write(f"{HOME}/{upload.name}", upload.data)
        installed = await _install(sandbox, packages, timeout)
        before = await _scan(sandbox)
        left = max(1.0, timeout - (self.clock() - started))
        execution = await sandbox.run_code(code, timeout=left)
        if execution.error is not None and execution.error.name == "TimeoutError":
            raise ToolFailure("timeout", f"the code ran longer than {left:.0f} s and was stopped")
        files, skipped = await _collect(sandbox, before, await _scan(sandbox))
        shown = _displayed(execution)
        seconds = Decimal(max(1, math.ceil(self.clock() - started)))
        return SandboxRun(
            sandbox_id=sandbox.sandbox_id,
            stdout="".join(execution.logs.stdout)[:MAX_STREAM_CHARS],
            stderr="".join(execution.logs.stderr)[:MAX_STREAM_CHARS],
            result=execution.text,
            error=_error_text(execution),
            files=(*files, *shown[: max(0, MAX_FILES - len(files))]),
            skipped=skipped,
            seconds=seconds,
            installed=installed,
            reused=reused,
        )


async def _install(
    sandbox: AsyncSandbox, packages: Sequence[str], timeout: float
) -> tuple[str, ...]:
    if not packages:
        return ()
    command = "pip install --quiet --disable-pip-version-check " + " ".join(
        shlex.quote(p) for p in packages
    )
    try:
        await sandbox.commands.run(command, timeout=timeout)
    except CommandExitException as exc:
        tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
        raise ToolFailure(
            "invalid_input", f"pip could not install {' '.join(packages)}: {' '.join(tail)}"
        ) from exc
    return tuple(packages)


_Snapshot = dict[str, tuple[int, datetime]]


async def _scan(sandbox: AsyncSandbox) -> _Snapshot:
    entries = await sandbox.files.list(HOME, depth=SCAN_DEPTH)
    found: _Snapshot = {}
    for entry in entries:
        relative = entry.path.removeprefix(HOME + "/")
        if str(entry.type).lower().endswith("file") and not any(
            part.startswith(".") for part in relative.split("/")
        ):
            found[entry.path] = (entry.size, entry.modified_time)
    return found


async def _collect(
    sandbox: AsyncSandbox, before: _Snapshot, after: _Snapshot
) -> tuple[tuple[OutputFile, ...], tuple[SkippedFile, ...]]:
    files: list[OutputFile] = []
    skipped: list[SkippedFile] = []
    for path, (size, modified) in sorted(after.items()):
        if before.get(path) == (size, modified):
            continue
        shown = path.removeprefix(HOME + "/")
        if size > MAX_FILE_BYTES:
            skipped.append(SkippedFile(shown, f"{size} bytes, over {MAX_FILE_BYTES // 2**20} MB"))
        elif len(files) >= MAX_FILES:
            skipped.append(SkippedFile(shown, f"more than {MAX_FILES} files written"))
        else:
            data = await sandbox.files.read(path, format="bytes")
            files.append(OutputFile(shown, bytes(data)))
    return tuple(files), tuple(skipped)


def _displayed(execution: Execution) -> list[OutputFile]:
    """Images the code displayed (a chart shown with ``plt.show()``), as files."""
    shown: list[OutputFile] = []
    for index, result in enumerate(execution.results, 1):
        for kind in ("png", "jpeg"):
            raw = getattr(result, kind, None)
            if isinstance(raw, str) and raw:
                shown.append(OutputFile(f"figure_{index}.{kind}", base64.b64decode(raw)))
                break
    return shown


def _error_text(execution: Execution) -> str | None:
    error = execution.error
    if error is None:
        return None
    tail = "\n".join(error.traceback.strip().splitlines()[-8:]) if error.traceback else ""
    return f"{error.name}: {error.value}" + (f"\n{tail}" if tail else "")


def _translate(exc: BaseException) -> ToolFailure:
    if isinstance(exc, RateLimitException):
        return ToolFailure("rate_limited", f"E2B is rate limiting sandboxes: {exc}; try later")
    unreachable = isinstance(exc, TimeoutException) and '"code":50' in str(exc)
    if unreachable or isinstance(exc, SandboxUnreachableException | SandboxNotRunningException):
        # the SDK reports E2B's proxy answering 502/503 as a TimeoutException
        return ToolFailure(
            "provider_error", f"the sandbox stopped or cannot be reached ({exc}); try again"
        )
    if isinstance(exc, TimeoutException | TimeoutError):
        return ToolFailure("timeout", f"the sandbox did not answer in time: {exc}")
    if isinstance(exc, AuthenticationException):
        return ToolFailure("unavailable", "the E2B key was refused; running code is unavailable")
    if isinstance(exc, SandboxException):
        return ToolFailure("provider_error", f"the sandbox failed: {exc}")
    return ToolFailure("provider_error", f"the sandbox failed: {type(exc).__name__}: {exc}")

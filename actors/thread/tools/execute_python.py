"""``execute_python``: run Python in the thread's E2B sandbox.

One sandbox per thread, kept warm between calls (files written by an earlier call are still
there) and closed when idle. The thread's files named in ``file_ids`` are uploaded into the
sandbox's home first, under their (sanitised) names; ``packages`` are pip-installed. Files
the code writes (anywhere under the home, new or changed during this run) come back as
generated files of the thread, with ids the model can pass to ``deliver_file``. Long stdout
or stderr is cut for the model (the rest is said to be cut: write big results to a file).

Paid per sandbox second (``sandbox_seconds``), also when the code itself raised: that run
happened. A provider failure (E2B down, rate limited, a timeout) is charged nothing.
Failed, not re-run, after a crash: a run may have written files or installed packages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from actors.texts import say
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.produced import (
    ProducedFile,
    mime_of,
    safe_name,
    text_preview,
    unique_names,
)
from actors.thread.tools.providers import SandboxRun, Upload
from actors.thread.tools.thread_files import find_file, label
from events.usage import ToolQuantities

NAME: Final = "execute_python"
MAX_CODE_CHARS: Final = 100_000
MAX_PACKAGES: Final = 10
MAX_UPLOADS: Final = 10
MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
DEFAULT_TIMEOUT: Final = 120
MAX_TIMEOUT: Final = 300
SHOWN_CHARS: Final = 8_000
"""Characters of stdout (and of stderr) the model gets back; the rest is cut."""
PACKAGE: Final = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}(\[[A-Za-z0-9,._-]{1,80}\])?"
    r"((==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!_-]{1,40}(,(==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!_-]{1,40})*)?$"
)
"""A requirement pip may install: a name, extras, version bounds; no URLs, paths or options."""

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Python code to run (a cell)."},
        "packages": {
            "type": "array",
            "items": {"type": "string"},
            "description": "pip requirements to install first, e.g. ['pandas', 'matplotlib'].",
        },
        "file_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Ids (list_files) of thread files to put in the working directory.",
        },
        "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT},
    },
    "required": ["code"],
}


def _code(tool_input: Mapping[str, Any]) -> str:
    code = tool_input.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ToolFailure("invalid_input", "code must be non-empty Python source")
    if len(code) > MAX_CODE_CHARS:
        raise ToolFailure("invalid_input", f"code is over {MAX_CODE_CHARS} characters")
    return code


def _strings(tool_input: Mapping[str, Any], name: str, limit: int) -> list[str]:
    raw = tool_input.get(name) or []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ToolFailure("invalid_input", f"{name} must be a list of strings")
    if len(raw) > limit:
        raise ToolFailure("invalid_input", f"at most {limit} {name} per call")
    return [x.strip() for x in raw if x.strip()]


def packages_of(tool_input: Mapping[str, Any]) -> list[str]:
    packages = _strings(tool_input, "packages", MAX_PACKAGES)
    for package in packages:
        if PACKAGE.fullmatch(package) is None:
            raise ToolFailure(
                "invalid_input",
                f"{package[:60]!r} is not a pip requirement (a name with optional extras and "
                "version bounds; no URLs, paths or options)",
            )
    return packages


def _timeout(tool_input: Mapping[str, Any]) -> int:
    value = tool_input.get("timeout_seconds", DEFAULT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIMEOUT:
        raise ToolFailure("invalid_input", f"timeout_seconds must be 1 to {MAX_TIMEOUT}")
    return value


async def _uploads(tool_input: Mapping[str, Any], ctx: ToolContext) -> list[Upload]:
    notes = [find_file(ctx, file_id) for file_id in _strings(tool_input, "file_ids", MAX_UPLOADS)]
    names = unique_names(safe_name(label(note)) for note in notes)
    uploads = []
    for note, name in zip(notes, names, strict=True):
        if note.file_size is not None and note.file_size > MAX_UPLOAD_BYTES:
            raise ToolFailure("invalid_input", f"{label(note)} is over 20 MB")
        uploads.append(Upload(name=name, data=await ctx.file_store.read(note)))
    return uploads


def _cut(text: str) -> str:
    if len(text) <= SHOWN_CHARS:
        return text
    return (
        text[:SHOWN_CHARS] + f"\n[... {len(text) - SHOWN_CHARS} more characters cut; "
        "write large output to a file instead of printing it]"
    )


def _new_files(run: SandboxRun) -> tuple[ProducedFile, ...]:
    names = unique_names(safe_name(f.path, "output") for f in run.files)
    files = []
    for output, name in zip(run.files, names, strict=True):
        mime = mime_of(name, output.data)
        files.append(ProducedFile(name, mime, output.data, text_preview(output.data, mime)))
    return tuple(files)


def report(run: SandboxRun, uploads: Sequence[Upload]) -> dict[str, Any]:
    """What the model reads about a run (files are added by the runtime, with their ids)."""
    out: dict[str, Any] = {"sandbox": "reused (warm)" if run.reused else "new"}
    if uploads:
        out["uploaded"] = [u.name for u in uploads]
    if run.installed:
        out["installed"] = list(run.installed)
    out["stdout"] = _cut(run.stdout)
    if run.stderr:
        out["stderr"] = _cut(run.stderr)
    if run.result is not None:
        out["result"] = _cut(run.result)
    if run.error is not None:
        out["error"] = _cut(run.error)
    if run.skipped:
        out["files_not_collected"] = [f"{s.path}: {s.reason}" for s in run.skipped]
    out["sandbox_seconds"] = int(run.seconds)
    return out


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    code = _code(tool_input)
    packages = packages_of(tool_input)
    timeout = _timeout(tool_input)
    uploads = await _uploads(tool_input, ctx)
    if packages:
        line = say(ctx.language, "status.execute_python_installing", packages=", ".join(packages))
    else:
        line = say(ctx.language, "status.execute_python")
    ctx.progress(line)
    result = await ctx.providers.sandbox.run(
        ctx.thread_key, code, packages=packages, uploads=uploads, timeout=timeout
    )
    return ToolResult(
        output=json.dumps(report(result, uploads), ensure_ascii=False),
        quantities=ToolQuantities(sandbox_seconds=result.seconds),
        new_files=_new_files(result),
        sandbox_id=result.sandbox_id,
    )


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Run Python code in this conversation's sandbox (Python 3 with the usual data "
        "libraries; pip-install more with packages). The working directory keeps its files "
        "between calls while the sandbox is warm. Put the user's files there with file_ids "
        "(from list_files). Files the code writes (charts, CSVs...) come back as files you "
        "can send with deliver_file; save charts with savefig rather than showing them. "
        "Long output is cut: write big results to files. Paid per sandbox second "
        "(estimate_cost tells the price)."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    paid=True,
    on_interrupt="fail",
    timeout=float(MAX_TIMEOUT + 180),  # the run's own limit, plus installs and files
    status=lambda language, _input: say(language, "status.execute_python"),
)

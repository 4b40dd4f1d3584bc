"""Test-only tools (never registered in production): they sleep, may fail, and record each
start and finish as a line in the file named by ``PROBE_TOOL_LOG`` (a real, observable side
effect), so a test sees whether a call ran, ran twice, or was cut short.

* ``probe_paid``: paid, crash rule ``fail`` (its effect must not happen twice); consumes
  ``units`` sandbox seconds, priced by the price table;
* ``probe_rerun``: free, crash rule ``rerun_once``; sleeps ``first_seconds`` only on its first
  run (so a re-run after a crash finishes quickly).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from actors.thread.tools import Tool, ToolContext, ToolFailure, ToolResult
from events.usage import ToolQuantities

SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "seconds": {"type": "number"},
        "first_seconds": {"type": "number"},
        "units": {"type": "integer"},
        "fail": {"type": "boolean"},
    },
}


def log_path() -> Path | None:
    raw = os.environ.get("PROBE_TOOL_LOG")
    return Path(raw) if raw else None


def effects(path: Path | None = None) -> list[str]:
    """The recorded lines (of ``path``, default the ``PROBE_TOOL_LOG`` file)."""
    path = path or log_path()
    if path is None or not path.exists():
        return []
    return path.read_text().splitlines()


def _record(line: str) -> None:
    path = log_path()
    if path is not None:
        with path.open("a") as out:
            out.write(line + "\n")


async def _paid(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    label = str(tool_input.get("label", ctx.tool_use_id))
    _record(f"start probe_paid {label}")
    await asyncio.sleep(float(tool_input.get("seconds", 0)))
    units = Decimal(int(tool_input.get("units", 0)))
    if tool_input.get("fail"):
        raise ToolFailure(
            "provider_error",
            "the probe was asked to fail",
            quantities=ToolQuantities(sandbox_seconds=units),
        )
    _record(f"done probe_paid {label}")
    return ToolResult(
        output=f"probe_paid {label} done", quantities=ToolQuantities(sandbox_seconds=units)
    )


async def _rerun(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    label = str(tool_input.get("label", ctx.tool_use_id))
    first = f"start probe_rerun {label}" not in effects()
    _record(f"start probe_rerun {label}")
    if first:
        await asyncio.sleep(float(tool_input.get("first_seconds", 0)))
    _record(f"done probe_rerun {label}")
    return ToolResult(output=f"probe_rerun {label} done")


PAID_PROBE = Tool(
    name="probe_paid",
    description="Test probe: a paid call with an effect that must not repeat.",
    input_schema=SCHEMA,
    run=_paid,
    paid=True,
    on_interrupt="fail",
    timeout=60.0,
)
RERUN_PROBE = Tool(
    name="probe_rerun",
    description="Test probe: a free call that is safe to run again.",
    input_schema=SCHEMA,
    run=_rerun,
    on_interrupt="rerun_once",
    timeout=60.0,
)
PROBE_TOOLS = (PAID_PROBE, RERUN_PROBE)

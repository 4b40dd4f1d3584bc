"""Running a code cell the way the code interpreter does, in a local subprocess (tests only:
the emulator never runs in production): statements executed, the last expression's value
reported as the cell's result, and output streamed as the /execute endpoint's JSON lines."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

# Executed by the child interpreter: runs the cell, writes the last expression's repr to a file.
_CELL_RUNNER = """
import ast, json, sys
source = open(sys.argv[1], encoding="utf-8").read()
tree = ast.parse(source, "<cell>")
last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
scope = {"__name__": "__main__"}
exec(compile(tree, "<cell>", "exec"), scope)
if last is not None:
    value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), scope)
    if value is not None:
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            json.dump({"text": repr(value)}, out)
"""


def _prepare(work: Path, code: str, count: int) -> tuple[Path, Path]:
    """Write the cell and the runner (small local files: done inline, not in a thread)."""
    work.mkdir(exist_ok=True)
    cell, result = work / f"cell{count}.py", work / f"result{count}.json"
    cell.write_text(code, encoding="utf-8")
    (work / "runner.py").write_text(_CELL_RUNNER, encoding="utf-8")
    return cell, result


def _line(kind: str, **fields: Any) -> bytes:
    return json.dumps({"type": kind, **fields}).encode() + b"\n"


async def run_cell(
    code: str, cwd: Path, work: Path, *, timeout: float, env: dict[str, str], count: int
) -> AsyncIterator[bytes]:
    """Yield the JSON lines of one execution (stdout, stderr, result, error, counters); the
    runner's own files go to `work`, outside the directory the code sees as its home."""
    cell, result = _prepare(work, code, count)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(work / "runner.py"),
        str(cell),
        str(result),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        yield _line("number_of_executions", execution_count=count)
        yield _line(
            "error",
            name="TimeoutError",
            value=f"Execution exceeded the sandbox's {timeout:g} s limit",
            traceback="",
        )
        yield _line("end_of_execution")
        return
    yield _line("number_of_executions", execution_count=count)
    now = time.time()
    if out:
        yield _line("stdout", text=out.decode(errors="replace"), timestamp=now)
    traceback = err.decode(errors="replace")
    if proc.returncode != 0:
        name, _, value = (traceback.strip().splitlines() or ["Error"])[-1].partition(": ")
        yield _line("error", name=name, value=value, traceback=traceback)
    elif traceback:
        yield _line("stderr", text=traceback, timestamp=now)
    if result.exists():
        data = json.loads(result.read_text(encoding="utf-8"))
        yield _line("result", is_main_result=True, **data)
    yield _line("end_of_execution")

"""envd's process.Process/Start (``sandbox.commands.run``): a server-streaming Connect-RPC in
the SDK's JSON codec. The command runs with bash in the sandbox's directory (tests only), its
output streamed as data events, then the end event with the exit code."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

END_STREAM = 0x02


def envelope(message: dict[str, Any], flags: int = 0) -> bytes:
    data = json.dumps(message).encode()
    return struct.pack(">BI", flags, len(data)) + data


def unwrap(raw: bytes) -> dict[str, Any]:
    """The one request message of a server-streaming call (5-byte envelope, then JSON)."""
    if len(raw) < 5:
        raise ValueError("empty Connect request")
    _, length = struct.unpack(">BI", raw[:5])
    parsed = json.loads(raw[5 : 5 + length] or b"{}")
    if not isinstance(parsed, dict):
        raise ValueError("Connect request is no JSON object")
    return parsed


async def run_command(
    command: str, cwd: Path, env: dict[str, str], timeout: float, pid: int
) -> AsyncIterator[bytes]:
    """Yield the enveloped start, data and end events, then the end-of-stream message."""
    yield envelope({"event": {"start": {"pid": pid}}})
    proc = await asyncio.create_subprocess_exec(
        "/bin/bash",
        "-c",
        command,
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
        end = {"exitCode": -1, "exited": False, "status": "signal: killed", "error": "timeout"}
        yield envelope({"event": {"end": end}})
        yield envelope({}, END_STREAM)
        return
    for name, chunk in (("stdout", out), ("stderr", err)):
        if chunk:
            data = {name: base64.b64encode(chunk).decode()}
            yield envelope({"event": {"data": data}})
    code = proc.returncode if proc.returncode is not None else -1
    end = {"exitCode": code, "exited": True, "status": f"exit status {code}"}
    yield envelope({"event": {"end": end}})
    yield envelope({}, END_STREAM)

"""A service started while its broker is down waits for it instead of exiting at once, and
says so on ``/readyz``."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_service_waits_for_an_unreachable_broker(tmp_path: Path) -> None:
    """`botctl users-worker` with no broker listening logs that it waits and keeps running
    (a broker restart must not become a crash loop of every service); meanwhile it is alive
    (/healthz 200) and not ready (/readyz 503 naming the broker)."""
    metrics_port = _closed_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_closed_port()}",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "BOTCTL_STATE_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
        "METRICS_PORT": str(metrics_port),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "infra.cli.main", "users-worker",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        seen: list[bytes] = []
        async with asyncio.timeout(60):
            while not any(b"waiting for it" in line for line in seen):
                line = await proc.stdout.readline()
                assert line, b"".join(seen).decode(errors="replace")
                seen.append(line)
        assert proc.returncode is None
        base = f"http://127.0.0.1:{metrics_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as alive:
                assert alive.status == 200
            async with http.get(f"{base}/readyz") as ready:
                assert ready.status == 503
                assert "broker" in json.loads(await ready.text())["pending"]
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()

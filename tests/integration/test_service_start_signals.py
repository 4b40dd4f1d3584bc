"""A service SIGTERMed while it is still starting stops at once, cleanly, with status 0 (the
signal handlers are installed before the slow start, and every start step gives way to them)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from infra.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(kafka: str, database: str, redis: str, state_dir: Path) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "DATABASE_URL": database,
        "REDIS_URL": redis,
        "BROKER_WAIT": "600",
        "BOTCTL_STATE_DIR": str(state_dir),
        "LOG_LEVEL": "INFO",
    }


async def _terminated_while(
    service: str, waiting_for: str, env: dict[str, str], tmp_path: Path
) -> tuple[int, str]:
    """Start ``botctl SERVICE``, SIGTERM it once its log says it waits (``waiting_for``);
    its exit status and log."""
    log_path = tmp_path / f"{service}.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "infra.cli.main", service,
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        async with asyncio.timeout(120):  # a guard against a hang, not a speed assertion
            while waiting_for not in log_path.read_text():
                assert proc.returncode is None, log_path.read_text()[-3000:]
                await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return code, log_path.read_text()


async def test_sigterm_during_the_broker_wait_exits_cleanly(tmp_path: Path) -> None:
    """A service waiting for an unreachable broker (its imports still under way) exits with
    status 0 on SIGTERM, instead of being killed by the signal or waiting out BROKER_WAIT."""
    env = _env(
        f"127.0.0.1:{_dead_port()}",
        f"postgresql://nobody@127.0.0.1:{_dead_port()}/none",
        f"redis://127.0.0.1:{_dead_port()}/0",
        tmp_path,
    )
    code, log = await _terminated_while(
        "users-worker", "broker unreachable; waiting for it", env, tmp_path
    )
    assert code == 0, log[-3000:]
    assert "stopped while starting" in log
    assert "Traceback" not in log


async def test_sigterm_during_the_projectors_database_wait_exits_cleanly(
    stack: Endpoints, tmp_path: Path
) -> None:
    """The projector waiting for an unreachable PostgreSQL (a step of its own start) exits
    with status 0 on SIGTERM."""
    dead_database = f"postgresql://nobody@127.0.0.1:{_dead_port()}/none"
    env = _env(stack.kafka_bootstrap, dead_database, stack.redis_url, tmp_path)
    code, log = await _terminated_while(
        "projector", "PostgreSQL unreachable; waiting for it", env, tmp_path
    )
    assert code == 0, log[-3000:]
    assert "Traceback" not in log

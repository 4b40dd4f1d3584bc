"""``botctl stack`` and ``botctl`` start-up errors, run as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from infra.stack.processes import start_ticks


def botctl(*args: str, state_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL")
        and not k.startswith(("TELEGRAM_", "ANTHROPIC_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "infra.cli.main", *args],
        env={**clean, "BOTCTL_STATE_DIR": str(state_dir), **env},
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=180,
    )


def test_stack_up_status_down_leaves_no_process(tmp_path: Path) -> None:
    """`stack up` is healthy, `status` lists the three services and names the broker, `down`
    leaves none running but keeps the data, `reset` deletes it only when confirmed."""
    up = botctl("stack", "up", state_dir=tmp_path)
    assert up.returncode == 0, up.stderr
    assert re.search(r"KAFKA_BOOTSTRAP_SERVERS=127\.0\.0\.1:\d+", up.stdout)
    assert "DATABASE_URL=postgresql://" in up.stdout
    assert "REDIS_URL=redis://" in up.stdout
    status = botctl("stack", "status", state_dir=tmp_path)
    assert status.returncode == 0, status.stdout + status.stderr
    pids = [int(p) for p in re.findall(r"pid (\d+)", status.stdout)]
    names = [line.split()[0] for line in status.stdout.splitlines()]
    assert names == ["kafka", "postgres", "redis"]
    assert all("healthy" in line for line in status.stdout.splitlines())
    assert all(start_ticks(pid) is not None for pid in pids)
    if os.environ.get("EMBEDDED_BROKER", "kafka") == "kafka":
        assert re.search(r"^kafka .*Apache Kafka 4\.\d+\.\d+", status.stdout, re.M)

    down = botctl("stack", "down", state_dir=tmp_path)
    assert down.returncode == 0, down.stderr
    assert [pid for pid in pids if start_ticks(pid) is not None] == []
    after = botctl("stack", "status", state_dir=tmp_path)
    assert after.returncode == 1
    assert "not running" in after.stdout
    assert "data kept" in down.stdout

    refused = botctl("stack", "reset", state_dir=tmp_path)
    assert refused.returncode == 2
    assert "confirm on a terminal or pass --yes" in refused.stderr
    assert (tmp_path / "postgres").exists() or (tmp_path / "kafka").exists()
    reset = botctl("stack", "reset", "--yes", state_dir=tmp_path)
    assert reset.returncode == 0, reset.stderr
    assert "deleted:" in reset.stdout
    assert not (tmp_path / "postgres").exists()
    assert not (tmp_path / "kafka").exists()


def test_unknown_url_scheme_is_one_clear_line(tmp_path: Path) -> None:
    """A DATABASE_URL with a foreign scheme names the setting and exits non-zero."""
    result = botctl(
        "gateway",
        state_dir=tmp_path,
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092",
        DATABASE_URL="mysql://db/x",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "botctl: error: DATABASE_URL: unsupported URL scheme 'mysql'; use postgres://, postgresql://"
    ]


def test_unreachable_broker_is_one_clear_line(tmp_path: Path) -> None:
    """A broker that does not answer (and no time allowed to wait for it, ``BROKER_WAIT=0``)
    is reported in one line naming its address."""
    result = botctl(
        "billing-worker",
        state_dir=tmp_path,
        BROKER_WAIT="0",
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        DATABASE_URL="postgresql://u@127.0.0.1:1/db",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("botctl: error: no Kafka broker answered at 127.0.0.1:1")


def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    """`botctl run` without a bot token names the missing setting and starts nothing."""
    result = botctl("run", state_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "botctl: error: TELEGRAM_BOT_TOKEN is not set "
        "(set it, or TELEGRAM_BOT_TOKEN_FILE with a path to it)"
    )
    assert not (tmp_path / "stack.json").exists()

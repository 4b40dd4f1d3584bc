"""``botctl run``'s supervisor on real child processes: restarts, crash loops, clean stop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from devkit.harness.topics import eventually
from infra.endpoints import Endpoints
from infra.kafka.topic_admin import ensure_topics
from infra.services.process_table import children, command_line, service_pids
from infra.services.restart_policy import RestartPolicy
from infra.services.supervisor import ChildSpec, botctl_argv, supervise
from infra.users.worker import USERS_TOPICS

ROOT = Path(__file__).resolve().parents[2]

FAST = RestartPolicy(max_exits=5, window=60.0, first_delay=0.05, max_delay=0.2, stable_after=30.0)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_crashed_service_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    """A child that dies once is started again; its sibling is never restarted; stop ends all."""
    starts = tmp_path / "starts"
    flaky = (
        "import pathlib, sys, time\n"
        f"p = pathlib.Path({str(starts)!r})\n"
        "p.write_text(p.read_text() + 'x' if p.exists() else 'x')\n"
        "if len(p.read_text()) == 1: sys.exit(3)\n"
        "time.sleep(600)\n"
    )
    steady_starts = tmp_path / "steady"
    steady = (
        "import pathlib, time\n"
        f"p = pathlib.Path({str(steady_starts)!r})\n"
        "p.write_text(p.read_text() + 'x' if p.exists() else 'x')\n"
        "time.sleep(600)\n"
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        supervise(
            [ChildSpec("flaky", _python(flaky)), ChildSpec("steady", _python(steady))],
            dict(os.environ),
            stop,
            grace=5.0,
            policy=FAST,
        )
    )
    await eventually(lambda: starts.exists() and len(starts.read_text()) == 2, timeout=30)
    stop.set()
    assert await asyncio.wait_for(task, 30) == 0
    assert steady_starts.read_text() == "x"
    assert starts.read_text() == "xx"


async def test_a_crash_looping_service_stops_the_bot_with_its_name(
    capsys: object, tmp_path: Path
) -> None:
    """Five exits within a minute: the supervisor stops every child and answers 1."""
    pid_file = tmp_path / "steady.pid"
    steady = (
        "import os, pathlib, time\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
        "time.sleep(600)\n"
    )
    stop = asyncio.Event()
    code = await asyncio.wait_for(
        supervise(
            [
                ChildSpec("broken", _python("import sys; sys.exit(7)")),
                ChildSpec("steady", _python(steady)),
            ],
            dict(os.environ),
            stop,
            grace=5.0,
            policy=FAST,
        ),
        60,
    )
    assert code == 1
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "service broken exited 5 times" in err
    assert "last exit code 7" in err
    assert not _alive(int(pid_file.read_text()))


async def test_a_botctl_service_is_forked_and_restarted_at_once_after_a_kill_9(
    stack: Endpoints, topic_prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``botctl <service>`` child is a fork of the fork server (not a child process of the
    supervisor) showing its botctl command line; killed with -9 it is logged with exit code
    -9 and forked again under a new pid; stop ends it."""
    report = await ensure_topics(stack.kafka_bootstrap, USERS_TOPICS, name_prefix=topic_prefix)
    assert report.ok
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
        "TOPIC_PREFIX": topic_prefix,
        "BOTCTL_STATE_DIR": str(tmp_path / "botctl"),
        "PYTHONPATH": str(ROOT),
    }
    me = os.getpid()

    def worker_pid() -> int | None:
        return service_pids(me, ["users-worker"]).get("users-worker")

    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="infra.services.supervisor")
    task = asyncio.create_task(
        supervise(
            [ChildSpec("users-worker", botctl_argv("users-worker"))],
            env,
            stop,
            grace=20.0,
            policy=FAST,
        )
    )
    try:
        first = await eventually(worker_pid, timeout=60)
        assert first not in children(me)
        assert command_line(first)[-3:] == ["-m", "infra.cli.main", "users-worker"]
        os.kill(first, signal.SIGKILL)
        second = await eventually(lambda: (pid := worker_pid()) != first and pid, timeout=60)
    finally:
        stop.set()
        code = await asyncio.wait_for(task, 60)
    assert code == 0
    exits = [r for r in caplog.records if r.getMessage() == "service exited; restarting"]
    assert [getattr(r, "fields", {}).get("code") for r in exits] == [-signal.SIGKILL]
    assert not _alive(second)

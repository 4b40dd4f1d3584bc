"""Starting, identifying and stopping the stack's child processes by pid.

A pid alone can be reused after a process dies, so every record also keeps the process's
start time (field 22 of ``/proc/PID/stat``); a pid whose start time differs is not ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """What identifies a started process across CLI invocations."""

    name: str
    pid: int
    start_ticks: int
    log_path: str


def start_ticks(pid: int) -> int | None:
    """The kernel's start time of ``pid`` in clock ticks, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; it ends at the last ')'.
    rest = stat[stat.rindex(")") + 2 :].split()
    state = rest[0]
    if state in ("Z", "X"):
        return None
    return int(rest[19])


def is_alive(record: ProcessRecord) -> bool:
    return start_ticks(record.pid) == record.start_ticks


def spawn(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> ProcessRecord:
    """Start ``argv`` in its own session (so it outlives the CLI), output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            user=user,
            cwd=cwd,
            start_new_session=True,
        )
    ticks = start_ticks(proc.pid)
    if ticks is None:
        proc.wait()
        raise RuntimeError(f"{name} exited at once; see {log_path}")
    # The Popen object is dropped on purpose: the process belongs to the stack, not to us.
    proc.returncode = 0  # silence "subprocess still running" ResourceWarning on collection
    return ProcessRecord(name=name, pid=proc.pid, start_ticks=ticks, log_path=str(log_path))


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _ended(record: ProcessRecord) -> bool:
    """Whether the process is gone; when it is our child, reaped (not left a zombie)."""
    _reap(record.pid)
    if is_alive(record):
        return False
    _reap_exited(record.pid)
    return True


def _reap_exited(pid: int, wait: float = 2.0) -> None:
    """Reap our child ``pid``, which has exited. A process of many threads (the broker's
    JVM) shows as a zombie in /proc before its last thread is gone, and can be reaped only
    then: a reap at the first sight of the zombie left the killed broker a zombie until the
    chaos suite ended."""
    deadline = time.monotonic() + wait
    while True:
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # not our child, or reaped already
        if reaped or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def stop(record: ProcessRecord, *, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
    """Signal the process group, wait up to ``grace`` seconds, then SIGKILL it."""
    if _ended(record):
        return
    try:
        os.killpg(record.pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _ended(record):
            return
        time.sleep(0.05)
    try:
        os.killpg(record.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(100):
        if _ended(record):
            return
        time.sleep(0.05)

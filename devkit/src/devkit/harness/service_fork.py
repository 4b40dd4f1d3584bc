"""The bot's services as separate processes, started without importing their libraries again.

A service process spends most of its start importing: aiogram rebuilds its ~300 pydantic
models (3-4 s of CPU), anthropic and faust add more, and the tests start about a hundred
service processes. Here a fork server (:mod:`multiprocessing`'s ``forkserver``, one per test
process) imports the services' modules once; each service is then a fork of it that runs
``botctl <service> ...`` exactly as ``python -m infra.cli.main`` would: its own process and
pid, its own environment, working directory and log, killed and restarted like any other.

The modules read nothing from the environment when imported (settings are loaded when a
service runs), so a fork behaves as a fresh interpreter given the same environment would.
:func:`spawn` falls back to a plain child process for any other command line."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path

from devkit.harness.processes import ChildProcess

PRELOAD = (
    "infra.cli.main",
    "infra.cli.stack_cmds",
    "infra.gateway.app",
    "infra.users.worker",
    "infra.threads.worker",
    "infra.billing.worker",
    "infra.billing.payments_process",
    "infra.projector.runner",
    "infra.broadcast.service",
)
"""What the fork server imports once: the command line and every service's entry point."""

_BOTCTL = ("-m", "infra.cli.main")

_context: ForkServerContext | None = None


def _forkserver() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        _context = context
    return _context


def _run_botctl(args: list[str], env: dict[str, str], cwd: str, log: str) -> None:
    """In the fork: become ``botctl ARGS`` with ``env``, writing to ``log``."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["botctl", *args]
    from infra.cli.main import main

    code = main(args)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


class ForkedService:
    """A service forked from the fork server, with :class:`subprocess.Popen`'s interface."""

    def __init__(self, process: ForkServerProcess, args: list[str]) -> None:
        self._process = process
        self.args = args

    @property
    def pid(self) -> int:
        pid = self._process.pid
        assert pid is not None
        return pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        self._process.join(0)
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return code

    def send_signal(self, sig: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def spawn(argv: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> ChildProcess:
    """Start ``argv`` with ``env`` in ``cwd``, its output appended to ``log``: a fork of the
    fork server when it is ``python -m infra.cli.main ...``, else a plain child process."""
    argv = list(argv)
    if tuple(argv[1:3]) == _BOTCTL:
        process = _forkserver().Process(
            target=_run_botctl, args=(argv[3:], env, str(cwd), str(log)), daemon=True
        )
        process.start()
        return ForkedService(process, argv)
    out = open(log, "ab")  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=out)
    finally:
        out.close()

"""The bot's services as forks of one process that imported them all once.

A service process spends most of its start importing its libraries (aiogram's models, the
SDKs): seconds of CPU, each time. ``botctl run`` with separate processes starts seven of them
at once, and restarts one whenever it exits, so the imports were both the first start's cost
(seven interpreters importing the same libraries on two cores) and the pause a restart adds
(a restarted thread worker imported for ~10 s before it served again while its neighbours
restarted too).

Here a fork server (:mod:`multiprocessing`'s ``forkserver``) imports every service's entry
point once; each service is then a fork of it that runs ``botctl <service>`` exactly as
``python -m infra.cli.main <service>`` would:

* its own process and pid, its own session and process group (``new_session``, as
  ``start_new_session=True`` gives a child process), its environment (replaced whole), its
  working directory and its output;
* its process title is that command line (``ps`` and ``/proc/<pid>/cmdline`` show
  ``... -m infra.cli.main gateway``; :mod:`infra.services.process_table` finds services by it);
* its exit code is the service's, or minus the signal that killed it.

The modules read nothing from the environment when imported (settings are loaded when a
service runs), so a fork behaves as a fresh interpreter given the same environment would.
The fork server is not the bot's parent process: it is a child of the process that first
used it, and exits when that process does.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Mapping, Sequence
from multiprocessing.context import ForkServerContext, ForkServerProcess
from typing import Final

PRELOAD: Final = (
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

BOTCTL_ARGV: Final = ("-m", "infra.cli.main")
"""``python -m infra.cli.main ...``: the command lines a fork can stand in for."""

# Each fork re-runs the parent's main module as ``__mp_main__`` (multiprocessing's rule), and
# runpy warns that ``botctl run``'s main, ``infra.cli.main``, is imported already (the fork
# server preloaded it): harmless, and seven lines of noise on every start. Installed in the
# fork server by its preload, so every fork inherits it.
warnings.filterwarnings(
    "ignore", message=r"'infra\.cli\.main' found in sys\.modules", category=RuntimeWarning
)

_lock = threading.Lock()
_context: ForkServerContext | None = None


def _forkserver() -> ForkServerContext:
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(PRELOAD))
            _context = context
        return _context


def start_fork_server() -> None:
    """Start the fork server now (it imports in the background, on its own core), so that the
    first fork does not wait for it. Blocking for a moment: call it from a thread."""
    from multiprocessing import forkserver

    _forkserver()
    forkserver.ensure_running()


def is_botctl(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is ``<python> -m infra.cli.main ...`` (a fork can run it)."""
    return tuple(argv[1:3]) == BOTCTL_ARGV


def _become_botctl(
    args: list[str], env: dict[str, str], cwd: str | None, log: str | None, new_session: bool
) -> None:
    """In the fork: become ``botctl ARGS`` with ``env``."""
    import setproctitle

    # first: it finds the room for the title next to the environment, which is replaced below
    setproctitle.setproctitle(" ".join([sys.executable, *BOTCTL_ARGV, *args]))
    if new_session:
        os.setsid()
    if log is not None:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    multiprocessing.current_process().daemon = False  # botctl run may fork services of its own
    sys.argv = ["botctl", *args]
    from infra.cli.main import main

    code = main(args)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


class ForkedService:
    """A service forked from the fork server, with :class:`subprocess.Popen`'s interface
    and an awaitable :meth:`exited`."""

    def __init__(self, process: ForkServerProcess, argv: list[str]) -> None:
        self._process = process
        self.args = argv

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

    async def exited(self) -> int:
        """Wait, without blocking the event loop, until the process exits; its exit code."""
        if (code := self.poll()) is not None:
            return code
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        sentinel = self._process.sentinel

        def readable() -> None:
            if not done.done():
                done.set_result(None)

        loop.add_reader(sentinel, readable)
        try:
            await done
        finally:
            loop.remove_reader(sentinel)
        return self.wait()

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def fork_botctl(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: str | None = None,
    log: str | None = None,
    new_session: bool = False,
    daemon: bool = False,
) -> ForkedService:
    """Run ``argv`` (``<python> -m infra.cli.main ARGS``, see :func:`is_botctl`) as a fork of
    the fork server. Its output goes to ``log`` (appended) or to this process's stdout and
    stderr. A ``daemon`` fork is terminated when this process exits (multiprocessing's
    rule; tests use it so that no service outlives them). Blocks while the fork server is
    still importing: call it from a thread in async code."""
    argv = list(argv)
    if not is_botctl(argv):
        raise ValueError(f"not a botctl command line: {argv}")
    process = _forkserver().Process(
        target=_become_botctl,
        args=(argv[3:], dict(env), cwd, log, new_session),
        daemon=daemon,
    )
    process.start()
    return ForkedService(process, argv)

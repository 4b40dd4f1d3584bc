"""The bot's services as separate processes in tests, started without importing their
libraries again.

A service process spends most of its start importing (aiogram's models, the SDKs), and the
tests start about a hundred service processes. :func:`spawn` forks ``botctl <service> ...``
from the project's fork server (:mod:`infra.services.forkserver`, the one ``botctl run``
uses): its own process and pid, its own environment, working directory and log, killed and
restarted like any other. Any other command line is a plain child process."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from devkit.harness.processes import ChildProcess
from infra.services.forkserver import fork_botctl, is_botctl


def spawn(argv: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> ChildProcess:
    """Start ``argv`` with ``env`` in ``cwd``, its output appended to ``log``: a fork of the
    fork server when it is ``python -m infra.cli.main ...``, else a plain child process.
    A fork does not outlive the test process (it is a daemon of it)."""
    if is_botctl(argv):
        return fork_botctl(argv, env, cwd=str(cwd), log=str(log), daemon=True)
    out = open(log, "ab")  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(list(argv), env=env, cwd=cwd, stdout=out, stderr=out)
    finally:
        out.close()

"""The bot under chaos: a private embedded stack and ``botctl run`` on it, with the handles
the faults need.

``botctl run`` with configured URLs runs every service as its own child process under the
supervisor (restarted with backoff when it exits), exactly as deployed. The faults act on
real processes: SIGKILL or SIGTERM of a service's process (found below ``botctl run`` by
its command line: the supervisor forks them from its fork server), and a dependency (Apache
Kafka, PostgreSQL, Redis) stopped and started again with the very same command line, so it
comes back on the same port and data directory (``devkit.harness.outages``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devkit.harness.outages import start_dependency, stop_dependency
from infra.cli.stack_cmds import SERVICES
from infra.services.process_table import service_pids
from infra.stack.embedded import EmbeddedStack, StackState

ROOT = Path(__file__).resolve().parents[2]
DEPENDENCIES = ("kafka", "postgres", "redis")
RESTART_WAIT = 240.0
"""How long a restarted dependency may take to answer (Apache Kafka on a machine at load 30
took over 90 s): longer is the harness failing, reported as a violation of the run."""


@dataclass
class BotUnderTest:
    """``botctl run`` on a private stack, its services' processes, and its dependencies."""

    stack: EmbeddedStack
    state: StackState
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    kills: dict[str, list[float]] = field(default_factory=dict)
    """Each service's recent exits we caused (pruned to the last minute; see the runner)."""
    killed: dict[str, list[float]] = field(default_factory=dict)
    """Each service's kill -9 moments (``time.monotonic``), all of them, for the verifier."""

    @classmethod
    def configure(
        cls, stack: EmbeddedStack, state: StackState, base_env: Mapping[str, str], log_path: Path
    ) -> BotUnderTest:
        env = {
            **os.environ,
            **base_env,
            "KAFKA_BOOTSTRAP_SERVERS": state.kafka_bootstrap,
            "DATABASE_URL": state.database_url,
            "REDIS_URL": state.redis_url,
            "BOTCTL_STATE_DIR": str(log_path.parent / "botctl"),
            "PYTHONPATH": str(ROOT),
        }
        return cls(stack, state, env, log_path)

    @property
    def endpoints_env(self) -> dict[str, str]:
        return {k: self.env[k] for k in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL")}

    def start(self) -> None:
        """``botctl run`` (separate processes: the URLs are configured)."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "infra.cli.main", "run"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def service_pids(self) -> dict[str, int]:
        """Each running service's pid (a service being restarted is absent)."""
        if self.proc is None:
            return {}
        return service_pids(self.proc.pid, SERVICES)

    async def wait_services(self, timeout: float = 180.0) -> dict[str, int]:
        """Wait until every service has a process (answers their pids)."""
        async with asyncio.timeout(timeout):
            while True:
                if not self.running:
                    raise RuntimeError(f"botctl run exited:\n{self.log_tail()}")
                pids = self.service_pids()
                if set(pids) == set(SERVICES):
                    return pids
                await asyncio.sleep(0.2)

    def signal_service(self, service: str, sig: int) -> int | None:
        """Send ``sig`` to the service's process; answers its pid (None: not running now)."""
        pid = self.service_pids().get(service)
        if pid is None:
            return None
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return None
        return pid

    async def wait_replaced(self, service: str, old_pid: int, timeout: float = 60.0) -> int:
        """Wait until the supervisor has started ``service`` again (a new pid)."""
        async with asyncio.timeout(timeout):
            while True:
                pid = self.service_pids().get(service)
                if pid is not None and pid != old_pid:
                    return pid
                if not self.running:
                    raise RuntimeError(f"botctl run exited:\n{self.log_tail()}")
                await asyncio.sleep(0.1)

    async def outage(self, name: str, seconds: float) -> None:
        """Stop the dependency ``name`` for ``seconds``, then start it again as it was."""
        relaunch = await stop_dependency(self.stack, self.state, name)
        await asyncio.sleep(seconds)
        await start_dependency(self.stack, self.state, name, relaunch, wait=RESTART_WAIT)

    def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM ``botctl run`` (it stops its services), SIGKILL the group after
        ``grace``; answers its exit status."""
        if self.proc is None:
            return None
        services = self.service_pids()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        for pid in services.values():  # each runs in its own session: not in our group
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return self.proc.returncode

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

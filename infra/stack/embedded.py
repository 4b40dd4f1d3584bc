"""The embedded stack: a Tansu broker, a PostgreSQL 16 and a Redis on loopback.

``EmbeddedStack.start`` launches the three as child processes in their own sessions, waits
until each answers through the app's own client libraries, and records pids and URLs in
``<state_dir>/stack.json``; ``stop`` terminates them by pid and removes their data. Nothing here
needs Docker or root; as root, PostgreSQL runs as an unprivileged system user.

The broker keeps its log in memory: a broker restart loses every topic and record.
PostgreSQL data lives in the state folder (or a private temporary folder as root) and is
deleted by ``stop``; Redis runs without persistence.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from infra.stack import binaries, health
from infra.stack.ports import free_port
from infra.stack.processes import ProcessRecord, is_alive, spawn, stop

HOST: Final = "127.0.0.1"
PG_SYSTEM_USER: Final = "claudegram-pg"
STATE_FILE: Final = "stack.json"


class StackError(Exception):
    """The embedded stack could not be started or inspected; the message says why."""


@dataclass(slots=True)
class ServiceState:
    name: str
    url: str
    process: ProcessRecord
    data_dir: str | None = None


@dataclass(slots=True)
class StackState:
    services: dict[str, ServiceState] = field(default_factory=dict)

    @property
    def kafka_bootstrap(self) -> str:
        return self.services["kafka"].url

    @property
    def database_url(self) -> str:
        return self.services["postgres"].url

    @property
    def redis_url(self) -> str:
        return self.services["redis"].url

    def to_json(self) -> str:
        return json.dumps({k: asdict(v) for k, v in self.services.items()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> StackState:
        raw = json.loads(text)
        return cls(
            {
                name: ServiceState(
                    name=item["name"],
                    url=item["url"],
                    process=ProcessRecord(**item["process"]),
                    data_dir=item.get("data_dir"),
                )
                for name, item in raw.items()
            }
        )


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    url: str
    pid: int
    running: bool
    healthy: bool
    detail: str


def _pg_user() -> str | None:
    """The system user PostgreSQL runs as: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    return PG_SYSTEM_USER


class EmbeddedStack:
    """Start, inspect and stop the embedded services recorded under ``state_dir``."""

    def __init__(self, state_dir: Path, *, startup_timeout: float = 30.0) -> None:
        self.state_dir = state_dir.resolve()
        self.startup_timeout = startup_timeout

    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    def load(self) -> StackState | None:
        try:
            return StackState.from_json(self.state_path.read_text())
        except FileNotFoundError:
            return None

    @staticmethod
    def is_running(state: StackState) -> bool:
        """All three services recorded and each process still alive."""
        return set(state.services) == {"kafka", "postgres", "redis"} and all(
            is_alive(s.process) for s in state.services.values()
        )

    async def start(self) -> StackState:
        """Start all three services; if one fails, stop the ones already started."""
        current = self.load()
        if current is not None and self.is_running(current):
            return current
        if current is not None:
            self.stop()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = StackState()
        try:
            results = await asyncio.gather(
                self._start_kafka(),
                self._start_postgres(),
                self._start_redis(),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, ServiceState):
                    state.services[result.name] = result
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        except BaseException:
            self._write(state)
            self.stop()
            raise
        self._write(state)
        return state

    def _write(self, state: StackState) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(state.to_json())
        tmp.replace(self.state_path)

    async def _await_ready(self, service: ServiceState, check: health.Check) -> ServiceState:
        try:
            await health.wait_until(
                check, self.startup_timeout, still_running=lambda: is_alive(service.process)
            )
        except (RuntimeError, TimeoutError) as exc:
            stop(service.process)
            log_tail = _tail(Path(service.process.log_path))
            raise StackError(f"{service.name} did not start: {exc}\n{log_tail}") from None
        return service

    async def _start_kafka(self) -> ServiceState:
        port = free_port()
        url = f"tcp://{HOST}:{port}"
        record = spawn(
            "kafka",
            [
                str(binaries.tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            self.state_dir / "logs" / "kafka.log",
            env={**os.environ, "RUST_LOG": os.environ.get("TANSU_LOG", "warn")},
        )
        service = ServiceState("kafka", f"{HOST}:{port}", record)
        return await self._await_ready(service, lambda: health.kafka_ready(service.url))

    async def _start_redis(self) -> ServiceState:
        port = free_port()
        record = spawn(
            "redis",
            [
                str(binaries.redis_server_binary()),
                "--bind",
                HOST,
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.state_dir),
            ],
            self.state_dir / "logs" / "redis.log",
        )
        service = ServiceState("redis", f"redis://{HOST}:{port}/0", record)
        return await self._await_ready(service, lambda: health.redis_ready(service.url))

    async def _start_postgres(self) -> ServiceState:
        user = _pg_user()
        bindir = binaries.postgres_bin_dir(for_other_user=user is not None)
        if user is None:
            data_dir = self.state_dir / "postgres"
            shutil.rmtree(data_dir, ignore_errors=True)
            data_dir.mkdir(parents=True)
        else:
            data_dir = Path(tempfile.mkdtemp(prefix="claudegram-pgdata-"))
            entry = pwd.getpwnam(user)
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        data_dir.chmod(0o700)
        initdb = await asyncio.create_subprocess_exec(
            str(bindir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            user=user,
        )
        out, _ = await initdb.communicate()
        if initdb.returncode != 0:
            raise StackError(f"postgres: initdb failed: {out.decode(errors='replace')[-2000:]}")
        port = free_port()
        log_path = self.state_dir / "logs" / "postgres.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        if user is not None:
            log_path.touch()
            shutil.chown(log_path, user)
        record = spawn(
            "postgres",
            [
                str(bindir / "postgres"),
                "-D",
                str(data_dir),
                "-h",
                HOST,
                "-p",
                str(port),
                "-k",
                str(data_dir),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=256MB",
            ],
            log_path,
            user=user,
        )
        service = ServiceState(
            "postgres", f"postgresql://postgres@{HOST}:{port}/postgres", record, str(data_dir)
        )
        return await self._await_ready(service, lambda: health.postgres_ready(service.url))

    def stop(self) -> list[str]:
        """Stop every recorded service, delete their data; answers the names stopped."""
        state = self.load()
        if state is None:
            return []
        stopped = []
        for service in state.services.values():
            # SIGINT is PostgreSQL's fast shutdown; the others treat it like SIGTERM.
            stop(service.process, sig=2, grace=15.0)
            stopped.append(service.name)
            if service.data_dir:
                shutil.rmtree(service.data_dir, ignore_errors=True)
        self.state_path.unlink(missing_ok=True)
        return stopped

    async def status(self) -> list[ServiceStatus]:
        state = self.load()
        if state is None:
            return []
        checks = {
            "kafka": health.kafka_ready,
            "postgres": health.postgres_ready,
            "redis": health.redis_ready,
        }
        result = []
        for service in state.services.values():
            running = is_alive(service.process)
            healthy, detail = False, "not running"
            if running:
                try:
                    detail = await asyncio.wait_for(checks[service.name](service.url), 5.0)
                    healthy = True
                except Exception as exc:
                    detail = f"unhealthy: {exc}"
            result.append(
                ServiceStatus(
                    service.name, service.url, service.process.pid, running, healthy, detail
                )
            )
        return result


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])

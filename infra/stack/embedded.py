"""The embedded stack: Apache Kafka (or Tansu), a PostgreSQL 16 and a Redis on loopback.

``EmbeddedStack.start`` launches the three as child processes in their own sessions, waits
until each answers through the app's own client libraries, and records pids and URLs in
``<state_dir>/stack.json``; ``stop`` terminates them by pid and keeps their data; ``reset``
stops them and deletes the data. Nothing here needs Docker or root; as root, PostgreSQL runs as
an unprivileged system user.

Durable by default: Apache Kafka keeps its log in ``<state_dir>/kafka/data`` and PostgreSQL its
cluster in ``<state_dir>/postgres`` (as root, when PostgreSQL's user cannot reach the state
folder, in ``/var/lib/claudegram/pgdata-<hash of the state folder>``), and a restart reuses
both. Redis runs without persistence (a cache the projector refills). The Tansu fallback
(``EMBEDDED_BROKER=tansu``) keeps its log in memory: its restart loses every record.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pwd
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from infra.settings import Settings, load_settings
from infra.stack import binaries, health, kafka_broker
from infra.stack.kafka_runtime import KafkaRuntime, default_cache_dir, kafka_runtime
from infra.stack.ports import free_port
from infra.stack.processes import ProcessRecord, is_alive, spawn, stop

HOST: Final = "127.0.0.1"
PG_SYSTEM_USER: Final = "claudegram-pg"
PG_ROOT_DATA: Final = Path("/var/lib/claudegram")
STATE_FILE: Final = "stack.json"


class StackError(Exception):
    """The embedded stack could not be started or inspected; the message says why."""


@dataclass(slots=True)
class ServiceState:
    name: str
    url: str
    process: ProcessRecord
    data_dir: str | None = None
    version: str = ""


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
                    version=item.get("version", ""),
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
    version: str = ""


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


def pg_data_dir(state_dir: Path, user: str | None) -> Path:
    """Where PostgreSQL keeps its cluster for this state folder: inside it, unless PostgreSQL
    runs as another user (we are root) who cannot traverse it; then a stable folder of its own
    named for the state folder, so every start of the same stack finds the same data."""
    local = state_dir / "postgres"
    if user is None or binaries.traversable_by_others(state_dir):
        return local
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:16]
    return PG_ROOT_DATA / f"pgdata-{digest}"


def _forget_orphaned_pg_data() -> None:
    """Delete the root-side PostgreSQL folders whose state folder no longer exists (and the
    owner notes of folders deleted by other means)."""
    for owner in PG_ROOT_DATA.glob("pgdata-*.owner"):
        try:
            state_dir = Path(owner.read_text().strip())
        except OSError:
            continue
        if not state_dir.exists() or not owner.with_suffix("").exists():
            shutil.rmtree(owner.with_suffix(""), ignore_errors=True)
            owner.unlink(missing_ok=True)


class EmbeddedStack:
    """Start, inspect, stop and reset the embedded services recorded under ``state_dir``."""

    def __init__(
        self,
        state_dir: Path,
        *,
        settings: Settings | None = None,
        startup_timeout: float = 90.0,
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.settings = settings if settings is not None else load_settings()
        self.startup_timeout = startup_timeout

    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def broker(self) -> str:
        """``kafka`` (Apache Kafka, the default) or ``tansu`` (EMBEDDED_BROKER)."""
        return self.settings.embedded_broker

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
        """Start all three services on the data of the last run; if one fails, stop the ones
        already started."""
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

    def kafka_runtime(self) -> KafkaRuntime:
        """Java and the pinned Kafka jars (fetched into the cache on first use)."""
        cache = self.settings.cache_dir or default_cache_dir()
        return kafka_runtime(cache, self.settings.maven_repo_url, self.settings.java_home)

    async def _start_kafka(self) -> ServiceState:
        if self.broker == "tansu":
            return await self._start_tansu()
        runtime = await asyncio.to_thread(self.kafka_runtime)
        layout = kafka_broker.KafkaLayout(self.state_dir / "kafka")
        port, controller_port = kafka_broker.choose_ports(layout, HOST)
        kafka_broker.write_config(layout, HOST, port, controller_port)
        heap = self.settings.kafka_heap_opts
        try:
            await kafka_broker.format_storage(runtime, layout, heap)
        except kafka_broker.KafkaFormatError as exc:
            raise StackError(str(exc)) from None
        record = spawn(
            "kafka",
            kafka_broker.broker_argv(runtime, layout, heap),
            self.state_dir / "logs" / "kafka.log",
            cwd=layout.root,
        )
        service = ServiceState(
            "kafka",
            f"{HOST}:{port}",
            record,
            str(layout.root),
            version=f"Apache Kafka {runtime.kafka_version} (Java {runtime.java_version})",
        )
        return await self._await_ready(service, lambda: health.kafka_coordinator_ready(service.url))

    async def _start_tansu(self) -> ServiceState:
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
            env={**os.environ, "RUST_LOG": self.settings.tansu_log},
        )
        service = ServiceState("kafka", f"{HOST}:{port}", record, version="Tansu (in-memory log)")
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

    def _prepare_pg_data(self, user: str | None) -> tuple[Path, bool]:
        """The data folder, made (owned by ``user``) if new; True when it holds a cluster."""
        data_dir = pg_data_dir(self.state_dir, user)
        if (data_dir / "PG_VERSION").is_file():
            return data_dir, True
        shutil.rmtree(data_dir, ignore_errors=True)  # an initdb that did not finish
        if data_dir.parent == PG_ROOT_DATA:
            PG_ROOT_DATA.mkdir(mode=0o755, parents=True, exist_ok=True)
            _forget_orphaned_pg_data()
        data_dir.mkdir(parents=True)
        if data_dir.parent == PG_ROOT_DATA:
            data_dir.with_suffix(".owner").write_text(f"{self.state_dir}\n")
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        data_dir.chmod(0o700)
        return data_dir, False

    async def _initdb(self, bindir: Path, data_dir: Path, user: str | None) -> None:
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

    async def _start_postgres(self) -> ServiceState:
        user = _pg_user()
        bindir = binaries.postgres_bin_dir(for_other_user=user is not None)
        data_dir, existing = self._prepare_pg_data(user)
        if not existing:
            await self._initdb(bindir, data_dir, user)
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
        """Stop every recorded service and keep their data; answers the names stopped."""
        state = self.load()
        if state is None:
            return []
        stopped = []
        for service in state.services.values():
            # SIGINT is PostgreSQL's fast shutdown; the others treat it like SIGTERM.
            stop(service.process, sig=2, grace=30.0)
            stopped.append(service.name)
        self.state_path.unlink(missing_ok=True)
        return stopped

    def data_paths(self) -> list[Path]:
        """Every folder holding this stack's data, existing or not (the logs are not data)."""
        paths = [self.state_dir / "kafka", self.state_dir / "postgres"]
        outside = pg_data_dir(self.state_dir, _pg_user())
        if outside not in paths:
            paths += [outside, outside.with_suffix(".owner")]
        return paths

    def reset(self) -> list[Path]:
        """Stop the stack and delete all its data; answers the paths deleted."""
        self.stop()
        deleted = []
        for path in self.data_paths():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                deleted.append(path)
            elif path.exists():
                path.unlink()
                deleted.append(path)
        return deleted

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
            if service.name == "kafka" and healthy:
                detail = f"{service.version}, cluster id {detail}"
            result.append(
                ServiceStatus(
                    service.name,
                    service.url,
                    service.process.pid,
                    running,
                    healthy,
                    detail,
                    service.version,
                )
            )
        return result


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])

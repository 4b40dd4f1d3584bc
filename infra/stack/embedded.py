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

PostgreSQL's cluster and process are in :mod:`infra.stack.postgres_server`, the recorded
state in :mod:`infra.stack.state`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from infra.settings import Settings, load_settings
from infra.stack import binaries, health, kafka_broker, postgres_server
from infra.stack.kafka_runtime import KafkaRuntime, default_cache_dir, kafka_runtime
from infra.stack.ports import free_port
from infra.stack.postgres_server import pg_data_dir, pg_user
from infra.stack.processes import is_alive, spawn, stop
from infra.stack.state import (
    HOST,
    STATE_FILE,
    ServiceState,
    ServiceStatus,
    StackError,
    StackState,
)

__all__ = [
    "HOST",
    "EmbeddedStack",
    "ServiceState",
    "ServiceStatus",
    "StackError",
    "StackState",
    "pg_data_dir",
    "pg_user",
]


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

    async def _start_postgres(self) -> ServiceState:
        service = await postgres_server.spawn_postgres(self.state_dir)
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
        outside = pg_data_dir(self.state_dir, pg_user())
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

"""``/readyz`` of the services as deployed (``botctl <service>`` with a metrics port): ready
only while connected to the dependencies they use and with their partitions assigned (and
not while rebalancing); ``/healthz`` stays "alive" throughout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiokafka import ConsumerRebalanceListener, TopicPartition

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.outages import start_dependency, stop_dependency
from devkit.harness.processes import ChildProcess, stop_process
from devkit.harness.service_fork import spawn
from devkit.harness.topics import eventually
from events.catalog import THREAD_INBOX, all_topics
from infra.cli.stack_cmds import SERVICES
from infra.endpoints import Endpoints
from infra.kafka.assignment_readiness import REBALANCING, WAITING, track_assignment
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile
from infra.kafka.topic_admin import ensure_topics
from infra.service_health import Readiness
from infra.services.supervisor import botctl_argv
from infra.stack.embedded import EmbeddedStack, StackState
from infra.stack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT = 300.0
"""Seconds a state change may take to show (a bound for a hung test, not a speed target)."""

POLL = 0.5
"""Seconds between two polls of a service's ``/readyz`` (seven services polled at once
must leave the test's event loop, where the emulators answer them, free to do so)."""

Pending = dict[str, str]


@dataclass
class Service:
    """``botctl <name>`` as a child process with a metrics port, and its ``/readyz``."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: ChildProcess | None = None
    seen: list[Pending] = field(default_factory=list)

    def start(self) -> None:
        env = {**self.env, "METRICS_PORT": str(self.port)}
        self.proc = spawn(botctl_argv(self.name), env, ROOT, self.log_path)

    async def stop(self, grace: float = 30.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` s; waits without blocking the event loop
        (the emulators a stopping service may still call run in it)."""
        await stop_process(self.proc, grace)

    async def get(self, path: str) -> tuple[int, dict[str, object]] | None:
        """The JSON answer of ``path`` (None while the process serves no HTTP yet)."""
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as response:
                return response.status, json.loads(await response.text())
        except aiohttp.ClientConnectionError:
            return None

    async def rebalances(self) -> float:
        """The process's ``claudegram_rebalances_total`` (assignments handled)."""
        url = f"http://127.0.0.1:{self.port}/metrics"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            text = await response.text()
        prefix = "claudegram_rebalances_total{"
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))

    async def until(self, holds: Callable[[Pending], bool], what: str) -> Pending:
        """Poll ``/readyz`` until its pending conditions satisfy ``holds``; each answer is
        kept in ``seen`` and checked against ``/healthz`` (alive whatever the readiness)."""
        try:
            return await self._until(holds, what)
        except TimeoutError:
            last = self.seen[-1] if self.seen else "no answer"
            raise AssertionError(f"{self.name}: {what}: /readyz pending {last}") from None

    async def _until(self, holds: Callable[[Pending], bool], what: str) -> Pending:
        async with asyncio.timeout(WAIT):
            while True:
                assert self.proc is not None
                assert self.proc.poll() is None, self.log_tail()
                answer = await self.get("/readyz")
                if answer is not None:
                    status, body = answer
                    pending: Pending = {str(k): str(v) for k, v in body["pending"].items()}  # type: ignore[attr-defined]
                    assert (status == 200) == (not pending) == body["ready"], body
                    self.seen.append(pending)
                    alive = await self.get("/healthz")
                    assert alive == (200, {"status": "alive"}), (what, alive)
                    if holds(pending):
                        return pending
                await asyncio.sleep(POLL)

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])


def _env(endpoints: Endpoints, tmp: Path, prefix: str, schema: str = "public") -> dict[str, str]:
    closed = f"http://127.0.0.1:{free_port()}"
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "DATABASE_URL": endpoints.database_url,
        "REDIS_URL": endpoints.redis_url,
        "TOPIC_PREFIX": prefix,
        "READ_SCHEMA": schema,
        "BOTCTL_STATE_DIR": str(tmp / "botctl"),
        "LOG_LEVEL": "INFO",
        "TELEGRAM_BOT_TOKEN": "7300000001:readiness-test-token",
        "TELEGRAM_API_URL": closed,
        "ANTHROPIC_API_KEY": "sk-ant-readiness-test",
        "ANTHROPIC_BASE_URL": closed,
    }


@pytest_asyncio.fixture(loop_scope="session")
async def services() -> AsyncIterator[list[Service]]:
    started: list[Service] = []
    yield started
    await asyncio.gather(*(service.stop() for service in started))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def own_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[EmbeddedStack, StackState]]:
    """An embedded stack of this module only: its PostgreSQL and Redis get stopped."""
    stack = EmbeddedStack(tmp_path_factory.mktemp("readiness-stack"))
    try:
        yield stack, await stack.start()
    finally:
        stack.reset()


USES: dict[str, frozenset[str]] = {
    "gateway": frozenset({"broker", "postgres", "redis"}),
    "users-worker": frozenset({"broker"}),
    "thread-worker": frozenset({"broker", "postgres", "redis"}),
    "billing-worker": frozenset({"broker"}),
    "payments": frozenset({"broker", "postgres", "redis"}),
    "projector": frozenset({"broker", "postgres", "redis"}),
    "broadcaster": frozenset({"broker", "postgres"}),
}
"""The dependencies each service uses, as its ``/readyz`` names them."""
OUTAGE = ("kafka", "postgres", "redis")
"""Stopped all at once: one outage (and one broker restart) serves every service."""
NAMED = {"kafka": "broker", "postgres": "postgres", "redis": "redis"}


def _ready(pending: Pending) -> bool:
    return not pending


def _unreachable(names: frozenset[str]) -> Callable[[Pending], bool]:
    return lambda pending: all(pending.get(n, "").startswith(f"{n} unreachable: ") for n in names)


async def test_every_service_is_not_ready_while_a_dependency_it_uses_is_down(
    own_stack: tuple[EmbeddedStack, StackState],
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    tmp_path: Path,
    services: list[Service],
) -> None:
    """Every service turns not ready while the broker, PostgreSQL and Redis are down, naming
    each of them it uses (and none it does not use) and why, and is ready again once they are
    back; each stays alive throughout."""
    assert set(USES) == set(SERVICES)
    stack, state = own_stack
    endpoints = Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, True)
    assert (await ensure_topics(endpoints.kafka_bootstrap, all_topics(), name_prefix="rdy.")).ok
    env = {
        **_env(endpoints, tmp_path, "rdy."),
        "TELEGRAM_API_URL": telegram_emulator_server.base_url,
        "ANTHROPIC_BASE_URL": claude_emulator_server.base_url,
    }
    services += [Service(name, env, tmp_path / f"{name}.log") for name in SERVICES]
    for service in services:
        service.start()
    await asyncio.gather(*(s.until(_ready, "ready at first") for s in services))

    relaunches = {name: await stop_dependency(stack, state, name) for name in OUTAGE}
    down = await asyncio.gather(
        *(s.until(_unreachable(USES[s.name]), "dependencies down") for s in services)
    )
    unused = {
        s.name: sorted(set(p) & (set(NAMED.values()) - USES[s.name]))
        for s, p in zip(services, down, strict=True)
    }
    assert unused == {name: [] for name in SERVICES}, down
    for name in OUTAGE:
        await start_dependency(stack, state, name, relaunches[name], wait=WAIT)
    await asyncio.gather(*(s.until(_ready, "back") for s in services))


async def test_the_thread_worker_is_ready_only_with_its_partitions_and_not_while_rebalancing(
    stack: Endpoints, pg_schema: str, tmp_path: Path, services: list[Service]
) -> None:
    """The thread worker is not ready until its partitions are assigned; when a second
    worker joins the group, the first goes through the rebalance (its assignment handled
    again, counted) and is ready again. (That it is not ready *during* a rebalance is
    pinned by the next test on a gated listener: the worker's own window is too short to
    catch by polling.)"""
    env = _env(stack, tmp_path, f"rdy{os.getpid()}.", pg_schema)
    first = Service("thread-worker", env, tmp_path / "first.log")
    services.append(first)
    first.start()
    await first.until(lambda pending: not pending, "first worker ready")
    assert {"thread-worker partitions": WAITING} in [
        {k: v for k, v in p.items() if k == "thread-worker partitions"} for p in first.seen
    ], first.seen

    assigned = await first.rebalances()
    assert assigned >= 1
    second = Service("thread-worker", env, tmp_path / "second.log")
    services.append(second)
    second.start()
    await second.until(lambda pending: not pending, "second worker ready")
    await eventually(lambda: _more(first, assigned), WAIT, interval=POLL)
    await first.until(lambda pending: not pending, "first worker ready again")


async def _more(service: Service, than: float) -> bool:
    return await service.rebalances() > than


class _Gated(ConsumerRebalanceListener):  # type: ignore[misc]
    """A service's listener that takes as long as the test says to handle an assignment."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.entered.set()
        await self.release.wait()
        self.entered.clear()
        self.release.clear()


async def test_a_group_member_is_ready_once_its_assignment_is_handled_and_not_during_a_rebalance(
    stack: Endpoints, broker_profile: BrokerProfile, topic_prefix: str
) -> None:
    """An aiokafka service's condition is pending until its listener has handled the
    assignment (states restored), pending again from a rebalance's revocation until the new
    assignment is handled."""
    report = await ensure_topics(stack.kafka_bootstrap, [THREAD_INBOX], name_prefix=topic_prefix)
    assert report.ok
    topic, group = topic_prefix + THREAD_INBOX.name, topic_prefix + "readiness"
    readiness, gated = Readiness(), _Gated()
    first = make_consumer(stack.kafka_bootstrap, broker_profile, [], group_id=group)
    second = make_consumer(stack.kafka_bootstrap, broker_profile, [], group_id=group)
    await first.start()
    first.subscribe([topic], listener=track_assignment(gated, readiness, "svc"))
    polls = [asyncio.create_task(_poll(first))]
    try:
        assert readiness.snapshot() == {"svc partitions": WAITING}
        await _wait(gated.entered, polls)
        assert readiness.snapshot() == {"svc partitions": WAITING}
        gated.release.set()
        await _until(lambda: not readiness.snapshot())

        await second.start()
        second.subscribe([topic])
        polls.append(asyncio.create_task(_poll(second)))
        await _wait(gated.entered, polls)
        assert readiness.snapshot() == {"svc partitions": REBALANCING}
        gated.release.set()
        await _until(lambda: not readiness.snapshot())
    finally:
        gated.release.set()  # never leave a consumer's coordinator waiting on the test
        for poll in polls:
            poll.cancel()
        await asyncio.gather(first.stop(), second.stop())


async def _wait(event: asyncio.Event, polls: list[asyncio.Task[None]]) -> None:
    """Wait for ``event`` while the consumers are polled (a poll that failed fails here)."""
    async with asyncio.timeout(WAIT):
        while not event.is_set():
            for poll in polls:
                if poll.done():
                    poll.result()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 0.5)


async def _poll(consumer: object) -> None:
    while True:
        await consumer.getmany(timeout_ms=100)  # type: ignore[attr-defined]


async def _until(holds: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not holds():  # noqa: ASYNC110 - set inside aiokafka's coordinator
            await asyncio.sleep(0.05)

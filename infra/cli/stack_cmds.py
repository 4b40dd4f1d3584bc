"""``botctl stack up | down | reset | status``, ``botctl config`` and the service entry points."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from events.catalog import all_topics
from infra.bootstrap import Root
from infra.endpoints import Endpoints, configured_endpoints, resolve_endpoints
from infra.kafka.compat import BrokerProfile, BrokerUnreachable, probe_broker
from infra.logs import configure_logging
from infra.metrics import serve_metrics
from infra.migrations import migrate
from infra.postgres import connect as pg_connect
from infra.service_health import Readiness, startup_condition
from infra.services.forkserver import start_fork_server
from infra.services.lifecycle import (
    Stopped,
    in_daemon_thread,
    stop_event_on_signals,
    unless_stopped,
)
from infra.services.supervisor import botctl_child, supervise
from infra.services.together import ServiceRun, run_services_together
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack, StackError

log = logging.getLogger(__name__)

SERVICES = (
    "gateway",
    "users-worker",
    "thread-worker",
    "billing-worker",
    "payments",
    "projector",
    "broadcaster",
)


def register(commands: Any) -> None:
    stack = commands.add_parser("stack", help="the embedded Kafka/Postgres/Redis stack")
    actions = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("up", help="start the stack and print its URLs").set_defaults(
        handler=stack_up
    )
    actions.add_parser("down", help="stop the stack, keeping its data").set_defaults(
        handler=stack_down
    )
    reset = actions.add_parser("reset", help="stop the stack and delete all its data")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.set_defaults(handler=stack_reset)
    actions.add_parser("status", help="show each service and its health").set_defaults(
        handler=stack_status
    )
    commands.add_parser("config", help="show the settings (secrets masked)").set_defaults(
        handler=show_config
    )
    run = commands.add_parser(
        "run", help="run the bot: stack (embedded by default), topics, migrations, services"
    )
    run.add_argument(
        "--processes",
        choices=("auto", "one", "separate"),
        default="auto",
        help="one: every service as a task of this process (one copy of each library); "
        "separate: each service its own child process, as deployed; auto (default): one on "
        "the embedded stack, separate with configured service URLs",
    )
    run.set_defaults(handler=run_all)
    for name in SERVICES:
        service = commands.add_parser(name, help=f"run the {name} service")
        service.set_defaults(handler=run_service, service=name)


async def stack_up(args: argparse.Namespace) -> int:
    settings = load_settings()
    if configured_endpoints(settings) is not None:
        print("service URLs are configured; the embedded stack is not used")
        return 0
    started = time.monotonic()
    state = await EmbeddedStack(settings.state_dir, settings=settings).start()
    print(f"stack healthy in {time.monotonic() - started:.1f}s")
    print(f"KAFKA_BOOTSTRAP_SERVERS={state.kafka_bootstrap}")
    print(f"DATABASE_URL={state.database_url}")
    print(f"REDIS_URL={state.redis_url}")
    return 0


async def stack_down(args: argparse.Namespace) -> int:
    settings = load_settings()
    stopped = EmbeddedStack(settings.state_dir, settings=settings).stop()
    print("stopped: " + ", ".join(stopped) if stopped else "the stack was not running")
    if stopped:
        print("data kept (`botctl stack up` resumes it, `botctl stack reset` deletes it)")
    return 0


async def stack_reset(args: argparse.Namespace) -> int:
    """Delete the stack's data, after a yes on a terminal (or ``--yes``)."""
    settings = load_settings()
    stack = EmbeddedStack(settings.state_dir, settings=settings)
    existing = [p for p in stack.data_paths() if p.exists()]
    if not existing and stack.load() is None:
        print("nothing to reset: the embedded stack has no data")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                "botctl: error: `stack reset` deletes every topic, balance and conversation; "
                "confirm on a terminal or pass --yes",
                file=sys.stderr,
            )
            return 2
        where = ", ".join(str(p) for p in existing)
        question = f"Delete all data of the embedded stack ({where})? [y/N] "
        answer = await asyncio.to_thread(input, question)
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    deleted = stack.reset()
    print("deleted: " + ", ".join(str(p) for p in deleted) if deleted else "nothing to delete")
    return 0


async def stack_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    statuses = await EmbeddedStack(settings.state_dir, settings=settings).status()
    if not statuses:
        print("the embedded stack is not running")
        return 1
    for s in statuses:
        state = "healthy" if s.healthy else ("running" if s.running else "stopped")
        print(f"{s.name:<9} {state:<8} pid {s.pid:<7} {s.url}  {s.detail}")
    return 0 if all(s.healthy for s in statuses) else 1


async def show_config(args: argparse.Namespace) -> int:
    print(repr(load_settings()))
    return 0


ServiceMain = Callable[[Root, asyncio.Event], Awaitable[None]]


REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "gateway": ("telegram_bot_token",),
    "users-worker": (),
    "thread-worker": ("telegram_bot_token", "anthropic_api_key"),
    "billing-worker": (),
    "payments": ("telegram_bot_token",),
    "projector": (),
    "broadcaster": ("telegram_bot_token",),
}
"""The settings each service needs (checked before anything starts)."""


def _service_main(name: str) -> ServiceMain:
    """A service's entry point (imported lazily: each service process loads only its own
    adapters)."""
    if name == "gateway":
        from infra.gateway.app import run_gateway

        return run_gateway
    if name == "users-worker":
        from infra.users.worker import run_users_worker

        return run_users_worker
    if name == "thread-worker":
        from infra.threads.worker import run_thread_worker

        return run_thread_worker
    if name == "billing-worker":
        from infra.billing.worker import run_billing_worker

        return run_billing_worker
    if name == "payments":
        from infra.billing.payments_process import run_payments_process

        return run_payments_process
    if name == "projector":
        from infra.projector.runner import run_projector

        return run_projector
    if name == "broadcaster":
        from infra.broadcast.service import run_broadcaster

        return run_broadcaster
    raise ValueError(f"unknown service {name!r}")


def _import_in_background(names: Sequence[str]) -> asyncio.Future[dict[str, ServiceMain]]:
    """The services' entry points, imported in a thread: the imports (aiogram's and
    anthropic's models: most of a start's CPU) overlap with what the process meanwhile waits
    for (the stack, the broker, topics, migrations) instead of following it; a daemon thread,
    so a process stopped meanwhile does not wait for them."""
    return in_daemon_thread(lambda: {n: _service_main(n) for n in names})


async def wait_for_broker(bootstrap: str, compat: str, wait: float) -> BrokerProfile:
    """Probe the broker until it answers, backing off up to 10 s, for at most ``wait`` s
    (the ``BROKER_WAIT`` setting): exiting at once would turn a broker restart into a crash
    loop of every service."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    delay = 0.5
    while True:
        try:
            return await probe_broker(bootstrap, compat)
        except BrokerUnreachable as exc:
            if loop.time() + delay > deadline:
                raise
            fields = {"error": str(exc), "retry_in_s": delay}
            log.warning("broker unreachable; waiting for it", extra={"fields": fields})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def run_service(args: argparse.Namespace) -> int:
    """``botctl <service>``: the one way to start one service. SIGTERM/SIGINT stop it cleanly
    from the first moment: every start step (the imports, the endpoints, the broker wait) is
    given up when they come."""
    stop = stop_event_on_signals()
    settings = load_settings()
    settings.require(*REQUIRED_SETTINGS[args.service])
    configure_logging(settings.log_level, secrets=settings.secret_values())
    entry = _import_in_background([args.service])
    try:
        endpoints = await unless_stopped(stop, resolve_endpoints(settings, start_embedded=False))
        readiness = Readiness(
            {"broker": "waiting for the broker", startup_condition(args.service): "starting"}
        )
        serve_metrics(settings.metrics_port, readiness)
        profile = await unless_stopped(
            stop,
            wait_for_broker(
                endpoints.kafka_bootstrap, settings.broker_compat, settings.broker_wait
            ),
        )
        readiness.met("broker")
        service_main = (await unless_stopped(stop, entry))[args.service]
    except Stopped:
        log.info("stopped while starting", extra={"fields": {"service": args.service}})
        return 0
    # the dependencies are probed only when someone can ask (a metrics port is set)
    watched = readiness if settings.metrics_port is not None else None
    root = Root(settings, endpoints, profile=profile, readiness=watched)
    root.watch_broker()
    try:
        await service_main(root, stop)
    finally:
        await root.close()
    return 0


def _stack_running(stack: EmbeddedStack) -> bool:
    state = stack.load()
    return state is not None and stack.is_running(state)


class InjectedCrash(RuntimeError):
    """The ``task-<service>`` test crash hook (``CLAUDEGRAM_TEST_CRASH``) fired."""


def _service_run(root: Root, stop: asyncio.Event, name: str, main: ServiceMain) -> ServiceRun:
    """One run of service ``name`` in this process; with the ``task-<name>`` crash hook set,
    its first N runs raise as they start (a test of the restarts)."""
    crashes = root.settings.crash_after(f"task-{name}")

    async def run() -> None:
        nonlocal crashes
        if crashes > 0:
            crashes -= 1
            raise InjectedCrash(f"CLAUDEGRAM_TEST_CRASH=task-{name}")
        await main(root, stop)

    return run


async def run_together(
    root: Root, stop: asyncio.Event, mains: Mapping[str, ServiceMain] | None = None
) -> int:
    """Every service as a task of this process, sharing ``root``, until ``stop``; a failed
    service is restarted in this process, one that keeps failing stops the bot (answers 1)."""
    mains = mains or {name: _service_main(name) for name in SERVICES}
    runs = {name: _service_run(root, stop, name, main) for name, main in mains.items()}
    return await run_services_together(runs, stop)


async def run_all(args: argparse.Namespace) -> int:
    """The whole bot: the stack (embedded unless configured), topics, migrations, and every
    service, in this process or as child processes (restarted when they fail), all stopped
    together. SIGTERM/SIGINT stop it cleanly from the first moment."""
    stop = stop_event_on_signals()
    settings = load_settings()
    settings.require("telegram_bot_token", "anthropic_api_key")
    configure_logging(settings.log_level, secrets=settings.secret_values())
    embedded = EmbeddedStack(settings.state_dir, settings=settings)
    uses_embedded = configured_endpoints(settings) is None
    already_up = uses_embedded and _stack_running(embedded)
    together = args.processes == "one" or (args.processes == "auto" and uses_embedded)
    mains = _import_in_background(SERVICES) if together else None
    if not together:
        start_fork_server()  # it imports the services while the stack starts
    readiness = (
        Readiness({startup_condition(name): "starting" for name in SERVICES})
        if together and settings.metrics_port is not None
        else None
    )
    # the stack's start, topics and migrations are not given up half-way (processes or
    # half-applied changes would be left behind): a signal during them stops the bot as soon
    # as the step is done; the imports are given up
    root = await Root.open(settings, start_embedded=True, readiness=readiness)
    endpoints = root.endpoints
    try:
        _unless_stopped_now(stop)
        report = await root.ensure_topics(all_topics())
        if not report.ok:
            raise StackError(f"topics do not match the catalog: {report.mismatches[0]}")
        _unless_stopped_now(stop)
        await _migrate(endpoints.database_url, settings.read_schema)
        _unless_stopped_now(stop)
        if mains is not None:
            serve_metrics(settings.metrics_port, readiness)
            return await run_together(root, stop, await unless_stopped(stop, mains))
        children = [botctl_child(name, name) for name in SERVICES]
        return await supervise(children, child_env(endpoints), stop)
    except Stopped:
        log.info("stopped while starting")
        return 0
    finally:
        await root.close()
        if endpoints.embedded and not already_up:  # a stack `stack up` started stays up
            embedded.stop()


def _unless_stopped_now(stop: asyncio.Event) -> None:
    if stop.is_set():
        raise Stopped


async def _migrate(database_url: str, schema: str) -> None:
    conn = await pg_connect(database_url)
    try:
        await migrate(conn, schema)
    finally:
        await conn.close()


def child_env(endpoints: Endpoints) -> dict[str, str]:
    """The environment of a service child: this one's, with the resolved endpoints (and no
    metrics port: the children would all bind the same one)."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "DATABASE_URL": endpoints.database_url,
        "REDIS_URL": endpoints.redis_url,
    }
    env.pop("METRICS_PORT", None)
    return env

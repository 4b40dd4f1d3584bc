"""Latency the thread pipeline adds, and sustained turns per second.

Run: ``.venv/bin/python bench/bench_pipeline.py [--threads 1 50 500] [--seconds 15]
[--via-gateway] [--tool estimate_cost]``.

Starts the embedded stack (or uses KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL/REDIS_URL), both
emulators in this process (the Claude emulator answers instantly, the Telegram emulator
without flood limits), and the thread worker as a separate process (``botctl
thread-worker``). ``N`` closed-loop threads each send a message, wait for the final
answer, and send the next, for ``--seconds``. Measured per turn, on this host's monotonic
clock (shared by all processes):

* ``update->request``: from the update entering the pipeline (the command published to
  ``bot.thread.inbox``; with ``--via-gateway`` the update queued in the Telegram emulator,
  so the gateway's polling and batching count too) to the model request reaching the
  Claude emulator;
* ``last token->final``: from the Claude emulator writing the stream's last event to the
  final ``sendMessage`` reaching the Telegram emulator;
* ``turns/s``: answered turns per second over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.thread import message_command
from events.billing import StarterCreditGranted
from events.catalog import (
    BILLING_COMMANDS,
    BILLING_LEDGER,
    THREAD_EVENTS,
    THREAD_INBOX,
    USERS_COMMANDS,
    USERS_EVENTS,
    TopicSpec,
)
from events.envelope import new_envelope
from events.ids import new_id
from events.keys import user_key
from infra.bootstrap import Root
from infra.endpoints import Endpoints, configured_endpoints
from infra.kafka.clients import make_consumer, make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.services.supervisor import botctl_argv
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack

ROOT = Path(__file__).resolve().parents[1]


class TimedClaude(ClaudeEmulator):
    """The Claude emulator, remembering when each stream ended (by the last user text)."""

    def __init__(self) -> None:
        super().__init__(record=True)
        self.arrived: dict[str, float] = {}
        self.stream_end: dict[str, float] = {}

    def request_times(self) -> dict[str, float]:
        """When each request arrived, by its last user text."""
        found: dict[str, float] = {}
        for req in self.message_requests():
            messages = req.body.get("messages", []) if isinstance(req.body, dict) else []
            users = [m for m in messages if m.get("role") == "user"]
            if users:
                content = users[-1]["content"]
                text = (
                    content
                    if isinstance(content, str)
                    else "".join(b.get("text", "") for b in content if b.get("type") == "text")
                )
                found.setdefault(text.split("\n")[-1], req.at)
        return found

    async def _stream(
        self, request: web.Request, reply: Any, message: dict[str, Any]
    ) -> web.StreamResponse:
        text = "".join(b.get("text", "") for b in message.get("content", []))
        response = await super()._stream(request, reply, message)
        self.stream_end[text] = time.monotonic()
        return response


class TimedTelegram(TelegramEmulator):
    """The Telegram emulator, waking the bench's waiter of a chat on its final message."""

    def __init__(self) -> None:
        super().__init__()
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self.final_at: dict[str, float] = {}

    def _record(self, token: str, method: str, params: Any, error: str | None) -> None:
        super()._record(token, method, params, error)
        if method.lower() != "sendmessage" or error is not None:
            return
        now = time.monotonic()
        values = params.values
        self.final_at.setdefault(str(values.get("text", "")).replace("\\", ""), now)
        waiter = self.waiters.pop(int(values.get("chat_id", 0)), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)


@dataclass
class Run:
    threads: int
    sent_at: dict[str, float] = field(default_factory=dict)
    publish_ms: list[float] = field(default_factory=list)
    done: int = 0
    started: float = 0.0
    ended: float = 0.0


@dataclass
class Pipeline:
    """What the thread pipeline benchmarks start: the stack (embedded unless its URLs are
    set), the pipeline's topics under a fresh prefix, both emulators in this process, and the
    environment of the service processes (``env``) with a folder for their logs."""

    endpoints: Endpoints
    root: Root
    profile: BrokerProfile
    prefix: str
    telegram: TimedTelegram
    claude: TimedClaude
    env: dict[str, str]
    logs: Path
    stack: EmbeddedStack | None = None
    broker_pid: int | None = None

    async def close(self) -> None:
        """Stop the emulators and the root's clients, and delete an embedded stack."""
        await self.telegram.stop()
        await self.claude.stop()
        await self.root.close()
        if self.stack is not None:
            with contextlib.suppress(Exception):
                self.stack.reset()
        print(f"# logs: {self.logs}")


async def start_pipeline(
    prefix_stem: str, *, record_requests: bool = True, **extra_env: str
) -> Pipeline:
    """Start what :class:`Pipeline` holds; ``extra_env`` adds to the services' environment."""
    settings = load_settings()
    configured = configured_endpoints(settings)
    stack: EmbeddedStack | None = None
    broker_pid: int | None = None
    if configured is None:
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="bench-stack-")))
        state = await stack.start()
        broker_pid = state.services["kafka"].process.pid
        endpoints = Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, True)
    else:
        endpoints = configured
    prefix = f"{prefix_stem}{uuid.uuid4().hex[:6]}."
    root = Root(settings, endpoints)
    profile = await root.profile()
    topics: list[TopicSpec[Any]] = [THREAD_INBOX, THREAD_EVENTS, USERS_COMMANDS, USERS_EVENTS,
                                    BILLING_COMMANDS, BILLING_LEDGER]  # fmt: skip
    await root.ensure_topics([*topics, *(t.dead_letter() for t in topics)], name_prefix=prefix)
    telegram = TimedTelegram()
    telegram.configure_flood(enabled=False)
    telegram.record_calls = False
    claude = TimedClaude()
    claude.record = record_requests
    await telegram.start()
    await claude.start()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "DATABASE_URL": endpoints.database_url,
        "REDIS_URL": endpoints.redis_url,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "ANTHROPIC_BASE_URL": claude.base_url,
        "ANTHROPIC_API_KEY": "emulator-key",
        "TOPIC_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    return Pipeline(
        endpoints, root, profile, prefix, telegram, claude, env, logs, stack, broker_pid
    )


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def closed_loop(
    run: Run,
    chat_id: int,
    publisher: EventPublisher,
    telegram: TimedTelegram,
    via_gateway: bool,
    deadline: float,
    interval: float = 0.0,
    offset: float = 0.0,
    tool: str | None = None,
) -> None:
    """Send, wait for the final answer, repeat; with ``interval`` the sends are paced (one
    every ``interval`` seconds from ``offset``, never two outstanding in one thread). With
    ``tool`` each message asks the emulator for one call of that tool (two model calls and
    one tool call per turn)."""
    i = 0
    next_at = time.monotonic() + offset
    while time.monotonic() < deadline:
        if interval:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            if time.monotonic() >= deadline:
                break
        i += 1
        token = f"b{chat_id}x{i}"
        text = f"{token} use tool {tool} {{}}" if tool else token
        waiter = telegram.waiters[chat_id] = asyncio.get_running_loop().create_future()
        run.sent_at[text] = time.monotonic()
        if via_gateway:
            telegram.send_text(chat_id, text)
        else:
            await publisher.publish(THREAD_INBOX, message_command(chat_id, text, message_id=i))
            run.publish_ms.append((time.monotonic() - run.sent_at[text]) * 1000)
        await asyncio.wait_for(waiter, 600)
        run.done += 1


async def bench(args: argparse.Namespace) -> None:
    setup = await start_pipeline("bench", METRICS_PORT=str(args.metrics_port))
    telegram, claude, env, logs = setup.telegram, setup.claude, setup.env, setup.logs
    profile, prefix, broker_pid = setup.profile, setup.prefix, setup.broker_pid
    bootstrap = setup.endpoints.kafka_bootstrap
    worker_log = (logs / "worker.log").open("ab")
    profile_args = ["-m", "cProfile", "-o", args.profile_worker] if args.profile_worker else []
    worker = await asyncio.create_subprocess_exec(
        sys.executable, *profile_args, "-m", "infra.cli.main", "thread-worker",
        env=env, cwd=ROOT, stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    gateway: asyncio.subprocess.Process | None = None
    if args.via_gateway:
        gateway_log = (logs / "gateway.log").open("ab")
        gateway_env = {k: v for k, v in env.items() if k != "METRICS_PORT"}  # the worker's
        gateway = await asyncio.create_subprocess_exec(
            *botctl_argv("gateway"),
            env=gateway_env, cwd=ROOT, stdout=gateway_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    producer = make_producer(bootstrap, profile)
    await producer.start()
    probe: asyncio.Task[None] | None = None
    probe_ms: list[float] = []
    if args.probe_inbox:
        probe = asyncio.create_task(
            probe_inbox(bootstrap, profile, prefix + THREAD_INBOX.name, probe_ms)
        )
    publisher = EventPublisher(producer, topic_prefix=prefix)
    lag_ms: list[float] = []
    lag = asyncio.create_task(loop_lag(lag_ms))
    gc_ms = track_gc_pauses()
    try:
        max_threads = max(args.threads)
        base = 5_000_000
        for chat in range(base, base + max_threads + 1):
            telegram.add_private_chat(chat)
            await publisher.publish(
                BILLING_LEDGER,
                StarterCreditGranted(
                    **new_envelope(key=user_key(chat), producer="bench"),
                    operation_id=f"starter:{chat}", user_id=chat, amount=Decimal(100),
                    balance_after=Decimal(100), command_id=new_id(), command_digest="0" * 64,
                ),
            )  # fmt: skip
        # warm-up: the worker joins its group and answers
        warm = Run(1)
        await asyncio.wait_for(
            closed_loop(warm, base + max_threads, publisher, telegram, args.via_gateway,
                        time.monotonic() + 0.1), 600)  # fmt: skip
        print(f"# {platform.node()} nproc={os.cpu_count()} python={platform.python_version()}")
        load = f"paced, {args.rate:g} turns/s in all" if args.rate else "closed loop"
        print(f"# via gateway: {args.via_gateway}; {args.seconds:.0f} s per row; {load}")
        print("| threads | turns | turns/s | update->request p50 / p99 ms "
              "| last token->final p50 / p99 ms |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|")
        for n in args.threads:
            run = Run(n)
            cpu_before = {
                "worker": cpu_seconds(worker.pid),
                "broker": cpu_seconds(broker_pid),
                "bench+emulators": cpu_seconds(os.getpid()),
            }
            # This process is the bench, not the pipeline: its collections (over every request
            # and message the emulators recorded) stopped its loop for up to 0.5 s, stamping
            # a few dozen turns late and making the p99; none during the row.
            gc.collect()
            gc.freeze()
            gc.disable()
            await asyncio.sleep(0.05)  # the loop-lag timer's late tick (the collection) first
            lag_ms.clear()
            gc_ms.clear()
            run.started = time.monotonic()
            deadline = run.started + args.seconds
            interval = n / args.rate if args.rate else 0.0
            await asyncio.gather(
                *(closed_loop(run, base + c, publisher, telegram, args.via_gateway, deadline,
                              interval, interval * c / n, args.tool)
                  for c in range(n))
            )  # fmt: skip
            run.ended = time.monotonic()
            gc.enable()
            finals = telegram.final_at
            requests = claude.request_times()
            to_request = [(requests[t] - s) * 1000 for t, s in run.sent_at.items() if t in requests]
            to_final = [
                (finals[t] - claude.stream_end[t]) * 1000
                for t in run.sent_at if t in finals and t in claude.stream_end
            ]  # fmt: skip
            rate = run.done / (run.ended - run.started)
            await print_worker_histograms(args.metrics_port)
            span = run.ended - run.started
            busy = ", ".join(
                f"{name} {(cpu_seconds(pid) - cpu_before[name]) / span:.0%}"
                for name, pid in (
                    ("worker", worker.pid),
                    ("broker", broker_pid),
                    ("bench+emulators", os.getpid()),
                )
            )
            print(f"#   CPU use (of one core): {busy}")
            print(
                f"#   this process's event loop (emulators, publisher, probe): a 5 ms timer late "
                f"by p99 {pct(lag_ms, 0.99):.1f} ms, max {max(lag_ms, default=0):.1f} ms; "
                f"its Python GC: {len(gc_ms)} collections, longest {max(gc_ms, default=0):.1f} ms"
            )
            worker_cpu = cpu_seconds(worker.pid) - cpu_before["worker"]
            if run.done:
                print(f"#   worker CPU per turn: {worker_cpu / run.done * 1000:.2f} ms")
            if probe_ms:
                print(
                    f"#   inbox delivery to a plain aiokafka consumer in the bench: p50 "
                    f"{pct(probe_ms, 0.5):.1f} ms, p99 {pct(probe_ms, 0.99):.1f} ms, "
                    f"max {max(probe_ms):.1f} ms"
                )
                probe_ms.clear()
            if run.publish_ms:
                print(
                    f"#   inbox publish (acks=all) p50 {pct(run.publish_ms, 0.5):.1f} ms, "
                    f"p99 {pct(run.publish_ms, 0.99):.1f} ms"
                )
            print(
                f"| {n} | {run.done} | {rate:.0f} | {pct(to_request, 0.5):.1f} / "
                f"{pct(to_request, 0.99):.1f} | {pct(to_final, 0.5):.1f} / "
                f"{pct(to_final, 0.99):.1f} |",
                flush=True,
            )
            if to_request:
                _ = statistics.mean(to_request)
    finally:
        lag.cancel()
        if probe is not None:
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe
        await producer.stop()
        for proc in (gateway, worker):
            if proc is not None:
                with contextlib.suppress(ProcessLookupError):  # it exited on its own
                    proc.send_signal(signal.SIGTERM)
        for proc in (gateway, worker):
            if proc is not None:
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
        await setup.close()


def track_gc_pauses() -> list[float]:
    """A list that gains the duration (ms) of each of this process's garbage collections (a
    collection stops the event loop, and with it the emulators' time stamps)."""
    pauses: list[float] = []
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(callback)
    return pauses


async def loop_lag(into: list[float], period: float = 0.005) -> None:
    """How late a ``period`` timer fires in this process's event loop, again and again (ms):
    the emulators' time stamps and the publisher's are this loop's, and late by as much."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(period)
        into.append((time.monotonic() - before - period) * 1000)


async def probe_inbox(bootstrap: str, profile: Any, topic: str, delays: list[float]) -> None:
    """Record, for every inbox record, broker timestamp -> a plain aiokafka consumer (no
    group, no Faust) has it: the broker's and the client's share of the delivery time."""
    consumer = make_consumer(bootstrap, profile, [topic], group_id=None)
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            now = time.time()
            for records in batches.values():
                delays.extend(max(0.0, now * 1000 - r.timestamp) for r in records)
    finally:
        await consumer.stop()


async def print_worker_histograms(port: int) -> None:
    """The worker's own view: command received -> model request, last token -> final."""
    import aiohttp

    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            text = await response.text()
    except aiohttp.ClientError:
        return
    for line in text.splitlines():
        if line.startswith(
            (
                "claudegram_pipeline_added_seconds_bucket",
                "claudegram_thread_inbox_delivery",
                "claudegram_thread_loop_lag_seconds_bucket",
                "claudegram_tool_step_overhead_seconds",
                "claudegram_tool_call_seconds",
            )
        ):
            print("#   " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 50, 500])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--via-gateway", action="store_true")
    parser.add_argument(
        "--probe-inbox",
        action="store_true",
        help="also time the inbox's delivery to a plain aiokafka consumer (no Faust)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="paced load: this many turns/s over all threads (default: closed loop, each "
        "thread sends its next message as soon as the answer arrives)",
    )
    parser.add_argument("--metrics-port", type=int, default=19187)
    parser.add_argument(
        "--tool",
        default="",
        help="one call of this tool per turn (e.g. estimate_cost); the worker's histogram "
        "claudegram_tool_step_overhead_seconds is the runtime's own time per tool step",
    )
    parser.add_argument("--profile-worker", default="", help="write the worker's cProfile here")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()

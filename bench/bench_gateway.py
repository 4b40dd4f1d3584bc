"""Latency the gateway adds: from an update reaching it to its command being durable.

Run: ``.venv/bin/python bench/bench_gateway.py [--threads 1 50 500] [--seconds 10]``.

Starts the embedded stack (or uses KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL/REDIS_URL) and runs
the gateway in this process (producer with the broker's workarounds, the real routers,
batching, dedupe). ``N`` threads (each a private chat of its own user) run closed loops:
send a short text, wait until its ``thread.user_message_received`` is acknowledged by the
broker, send the next. Every user sends one message first (registration, not measured).

Two ways in:

* ``dispatcher``: the update (an aiogram ``Update`` parsed from Telegram's JSON) is handed to
  the gateway's intake; measured from that call to the inbox record's broker ack. This is
  what the gateway itself adds.
* ``polling``: the Telegram emulator runs as a separate process; the update is injected
  through its control API and fetched by the gateway's long polling; measured from just
  before the inject request to the broker ack, so it includes the emulator's HTTP round
  trips and the getUpdates wake-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update

from events.catalog import THREAD_INBOX, TopicSpec
from events.thread import UserMessageReceived
from infra.endpoints import Endpoints, configured_endpoints
from infra.gateway.app import GATEWAY_TOPICS, Gateway
from infra.kafka.clients import make_producer
from infra.kafka.compat import probe_broker
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics
from infra.settings import Secret, Settings, load_settings
from infra.stack.embedded import EmbeddedStack
from infra.views import LedgerLine

ROOT = Path(__file__).resolve().parents[1]

TOKEN = "123456789:EMULATOR-TEST-TOKEN"


class NoBalances:
    async def balance(self, user_id: int) -> Any:
        return None

    async def recent_operations(self, user_id: int, limit: int = 10) -> list[LedgerLine]:
        return []


class Acks:
    """When each inbox command was acknowledged, by (chat id, message text)."""

    def __init__(self) -> None:
        self.waiters: dict[tuple[int, str], asyncio.Future[float]] = {}

    def expect(self, chat_id: int, text: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[(chat_id, text)] = fut
        return fut

    def acked(self, record: Any) -> None:
        if isinstance(record, UserMessageReceived):
            fut = self.waiters.pop((record.message.chat_id, record.message.text), None)
            if fut is not None and not fut.done():
                fut.set_result(time.perf_counter())


def timed_publisher(acks: Acks) -> type[EventPublisher]:
    class TimedPublisher(EventPublisher):
        async def publish(self, spec: TopicSpec[Any], record: Any) -> None:
            await super().publish(spec, record)
            if spec is THREAD_INBOX:
                acks.acked(record)

    return TimedPublisher


def update_json(update_id: int, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": f"U{chat_id}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": f"U{chat_id}"},
            "from": user,
            "text": text,
        },
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_level(
    mode: str,
    threads: int,
    seconds: float,
    endpoints: Endpoints,
    settings: Settings,
    emulator_url: str,
    rate: float | None = None,
) -> dict[str, float]:
    profile = await probe_broker(endpoints.kafka_bootstrap, settings.broker_compat)
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    await ensure_topics(endpoints.kafka_bootstrap, GATEWAY_TOPICS, name_prefix=prefix)
    acks = Acks()
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator_url)))
    producer = make_producer(endpoints.kafka_bootstrap, profile)
    await producer.start()
    http = aiohttp.ClientSession()
    gateway = Gateway.wire(
        settings=settings,
        bot=bot,
        publisher=timed_publisher(acks)(producer, topic_prefix=prefix),
        balances=NoBalances(),
    )
    latencies: list[float] = []
    update_ids = iter(range(1, 10**9))
    stop_poll = asyncio.Event()
    poller: asyncio.Task[None] | None = None
    try:
        if mode == "polling":
            async with http.post(f"{emulator_url}/_control/reset") as r:
                r.raise_for_status()
            for t in range(threads):
                chat = {"chat_id": 1_000_000 + t, "type": "private"}
                async with http.post(f"{emulator_url}/_control/_/chats", json=chat) as r:
                    r.raise_for_status()
            poller = asyncio.create_task(gateway.poller(timeout=10).run(stop_poll))

        async def send(chat_id: int, message_id: int, text: str) -> float:
            done = acks.expect(chat_id, text)
            started = time.perf_counter()
            if mode == "dispatcher":
                update = Update.model_validate(
                    update_json(next(update_ids), chat_id, message_id, text), context={"bot": bot}
                )
                await gateway.intake.feed(update)
            else:
                body = {"chat_id": chat_id, "text": text}
                async with http.post(f"{emulator_url}/_control/_/inject/text", json=body) as r:
                    r.raise_for_status()
            return (await asyncio.wait_for(done, 30)) - started

        barrier = asyncio.Barrier(threads + 1)
        window: dict[str, float] = {}
        go = asyncio.Event()

        async def closed_loop(t: int) -> None:
            chat_id = 1_000_000 + t
            await send(chat_id, 1, f"warm-up {t}")  # registers the user, not measured
            await barrier.wait()
            await go.wait()
            n = 1
            if rate is None:  # closed loop: the next message as soon as one is durable
                while time.perf_counter() < window["end"]:
                    n += 1
                    latencies.append(await send(chat_id, n, f"m{n} t{t}"))
                return
            # open loop: this thread's share of `rate`, evenly spaced, random phase
            interval = threads / rate
            next_at = time.perf_counter() + random.uniform(0, interval)
            pending = []

            async def one(n: int) -> None:
                latencies.append(await send(chat_id, n, f"m{n} t{t}"))

            while next_at < window["end"]:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                n += 1
                pending.append(asyncio.create_task(one(n)))
                next_at += interval
            await asyncio.gather(*pending)

        tasks = [asyncio.create_task(closed_loop(t)) for t in range(threads)]
        await barrier.wait()
        started = time.perf_counter()
        window["end"] = started + seconds
        go.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    finally:
        stop_poll.set()
        if poller is not None:
            await poller
        await gateway.close()
        await http.close()
        await producer.stop()
        await bot.session.close()
    ms = [v * 1000 for v in latencies]
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p99": pct(ms, 0.99),
        "max": max(ms),
        "per_s": len(ms) / elapsed,
    }


def spawn_emulator() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "devkit.emulators", "--no-flood", "--token", TOKEN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


async def start_emulator() -> tuple[subprocess.Popen[bytes], str]:
    proc = spawn_emulator()
    assert proc.stdout is not None
    url = ""
    while not url:
        line = (await asyncio.to_thread(proc.stdout.readline)).decode()
        if not line:
            raise RuntimeError("the emulators did not start")
        if line.startswith("TELEGRAM_API_URL="):
            url = line.split("=", 1)[1].strip()
    return proc, url


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 50, 500])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--modes", nargs="+", default=["dispatcher", "polling"])
    parser.add_argument(
        "--rates",
        nargs="+",
        default=["closed", "200"],
        help="'closed' (each thread sends as soon as its last command is durable) or "
        "updates per second over all threads (open loop)",
    )
    args = parser.parse_args()
    settings = load_settings()
    endpoints = configured_endpoints(settings)
    stack = None
    if endpoints is None:
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="bench-gw-stack-")))
        state = await stack.start()
        endpoints = Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, True)
    emulator, url = await start_emulator()
    settings = Settings(telegram_bot_token=Secret(TOKEN), telegram_api_url=url)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"nproc={os.cpu_count()} cpu={cpu} python={platform.python_version()}")
    print(f"load average before: {os.getloadavg()}")
    print("| way in | load | threads | commands | p50 ms | p99 ms | max ms | commands/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    try:
        for mode in args.modes:
            for load in args.rates:
                rate = None if load == "closed" else float(load)
                label = "closed loop" if rate is None else f"{rate:.0f}/s"
                for threads in args.threads:
                    r = await run_level(mode, threads, args.seconds, endpoints, settings, url, rate)
                    print(
                        f"| {mode} | {label} | {threads} | {r['n']:.0f} | {r['p50']:.2f} "
                        f"| {r['p99']:.2f} | {r['max']:.1f} | {r['per_s']:.0f} |",
                        flush=True,
                    )
    finally:
        emulator.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            emulator.wait(10)
        if stack is not None:
            stack.reset()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())

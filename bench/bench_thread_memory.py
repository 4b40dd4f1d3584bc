"""Thread worker memory: RSS at start-up and after N one-turn threads that then sit idle.

Run: ``.venv/bin/python bench/bench_thread_memory.py [--threads 10000] [--concurrency 100]
[--answer-chars 0]`` (0: the emulator's short echo; N: every answer is N characters).

Starts the embedded stack (or uses KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL/REDIS_URL), both
emulators in this process and the thread worker as a separate process, like
``bench_pipeline.py``. Funds N users, then runs one turn in each of N private chats
(``--concurrency`` at a time) and reads the worker's resident set size (``VmRSS``) when it
is ready and after the last answer (the threads are idle then: nothing of a finished turn
needs to stay in memory but the thread's state). Prints bytes per idle thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_pipeline import Run, TimedClaude, TimedTelegram

from devkit.emulators.claude import text_reply
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
from infra.endpoints import Endpoints, configured_endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import probe_broker
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack

ROOT = Path(__file__).resolve().parents[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def starter(chat: int) -> StarterCreditGranted:
    return StarterCreditGranted(
        **new_envelope(key=user_key(chat), producer="bench"),
        operation_id=f"starter:{chat}", user_id=chat, amount=Decimal(100),
        balance_after=Decimal(100), command_id=new_id(), command_digest="0" * 64,
    )  # fmt: skip


async def one_turn_each(
    chats: list[int], publisher: EventPublisher, telegram: TimedTelegram, concurrency: int
) -> Run:
    run = Run(len(chats))
    queue = list(reversed(chats))

    async def lane() -> None:
        while queue:
            chat = queue.pop()
            waiter = telegram.waiters[chat] = asyncio.get_running_loop().create_future()
            await publisher.publish(THREAD_INBOX, message_command(chat, f"m{chat}", message_id=1))
            await asyncio.wait_for(waiter, 120)
            run.done += 1

    run.started = time.monotonic()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    run.ended = time.monotonic()
    return run


async def bench(args: argparse.Namespace) -> None:
    settings = load_settings()
    configured = configured_endpoints(settings)
    stack: EmbeddedStack | None = None
    if configured is None:
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="bench-stack-")))
        state = await stack.start()
        endpoints = Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, True)
    else:
        endpoints = configured
    prefix = f"benchmem{uuid.uuid4().hex[:6]}."
    profile = await probe_broker(endpoints.kafka_bootstrap, settings.broker_compat)
    topics: list[TopicSpec[Any]] = [THREAD_INBOX, THREAD_EVENTS, USERS_COMMANDS, USERS_EVENTS,
                                    BILLING_COMMANDS, BILLING_LEDGER]  # fmt: skip
    await ensure_topics(
        endpoints.kafka_bootstrap, [*topics, *(t.dead_letter() for t in topics)], name_prefix=prefix
    )
    telegram = TimedTelegram()
    telegram.configure_flood(enabled=False)
    telegram.record_calls = False
    claude = TimedClaude()
    claude.record = False
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
        "THREAD_TOPIC_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "infra.threads.worker",
        env=env, cwd=ROOT, stdout=(logs / "worker.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    producer = make_producer(endpoints.kafka_bootstrap, profile)
    await producer.start()
    publisher = EventPublisher(producer, topic_prefix=prefix)
    base = 7_000_000
    chats = list(range(base, base + args.threads))
    try:
        for start in range(0, len(chats) + 1, 500):
            batch = list(range(base + start, min(base + args.threads + 1, base + start + 500)))
            for chat in batch:
                telegram.add_private_chat(chat)
            await publisher.publish_all([(BILLING_LEDGER, starter(chat)) for chat in batch])
        if args.answer_chars:
            words = ("lorem ipsum dolor sit amet " * (args.answer_chars // 27 + 1))[
                : args.answer_chars
            ]
            claude.script(*(text_reply(words) for _ in range(args.threads + 1)))
        warm = await one_turn_each([base + args.threads], publisher, telegram, 1)
        assert warm.done == 1
        await asyncio.sleep(25)  # the worker's second gc.freeze (FREEZE_AGAIN_AFTER = 20 s)
        ready = rss_bytes(worker.pid)
        run = await one_turn_each(chats, publisher, telegram, args.concurrency)
        await asyncio.sleep(5)  # background publishes and tombstones settle
        after = rss_bytes(worker.pid)
        print(f"# {platform.node()} nproc={os.cpu_count()} python={platform.python_version()}")
        print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; threads={args.threads} "
              f"concurrency={args.concurrency} answer-chars={args.answer_chars}; "
              f"{run.done} turns in "
              f"{run.ended - run.started:.0f} s")  # fmt: skip
        print("| worker RSS ready | after N one-turn threads | per idle thread |")
        print("|---:|---:|---:|")
        print(f"| {ready / 2**20:.0f} MB | {after / 2**20:.0f} MB | "
              f"{(after - ready) / max(1, run.done) / 1024:.1f} KB |", flush=True)  # fmt: skip
    finally:
        await producer.stop()
        worker.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(worker.wait(), 20)
        except TimeoutError:
            worker.kill()
        await telegram.stop()
        await claude.stop()
        if stack is not None:
            with contextlib.suppress(Exception):
                stack.stop()
        print(f"# logs: {logs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--answer-chars", type=int, default=0)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()

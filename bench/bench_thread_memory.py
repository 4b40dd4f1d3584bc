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
import time
from decimal import Decimal
from pathlib import Path

from bench_pipeline import Run, TimedTelegram, start_pipeline

from devkit.emulators.claude import text_reply
from devkit.harness.thread import message_command
from events.billing import StarterCreditGranted
from events.catalog import (
    BILLING_LEDGER,
    THREAD_INBOX,
)
from events.envelope import new_envelope
from events.ids import new_id
from events.keys import user_key
from infra.kafka.clients import make_producer
from infra.kafka.publisher import EventPublisher
from infra.services.supervisor import botctl_argv

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
    setup = await start_pipeline("benchmem", record_requests=False)
    telegram, claude, env, logs = setup.telegram, setup.claude, setup.env, setup.logs
    profile, prefix = setup.profile, setup.prefix
    worker = await asyncio.create_subprocess_exec(
        *botctl_argv("thread-worker"),
        env=env, cwd=ROOT, stdout=(logs / "worker.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    producer = make_producer(setup.endpoints.kafka_bootstrap, profile)
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
        with contextlib.suppress(ProcessLookupError):  # it exited on its own
            worker.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(worker.wait(), 20)
        except TimeoutError:
            worker.kill()
        await setup.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--answer-chars", type=int, default=0)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()

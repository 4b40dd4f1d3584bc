"""How fast ``/stop`` takes effect on a streaming turn: the thread actor in this process as
the integration tests run it (``devkit.harness.thread.running_harness``: the real broker
and Redis, the Claude and Telegram emulators, an in-memory state store).

Starts the embedded stack (or uses KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL/REDIS_URL). Each run
opens a chat, streams a long answer (about 100 s if nothing stops it), waits for the first
draft, then submits ``/stop`` and measures from the submit to

* the partial answer in the chat (the bot's message, with its "stopped" mark), and
* the message's ack: the ``turn_cancelled`` event and its charge durable on the broker.

Run: ``.venv/bin/python bench/bench_stop.py [--runs 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.thread import Harness, message_command, running_harness, stop_command
from infra.bootstrap import Root
from infra.endpoints import Endpoints, configured_endpoints
from infra.settings import load_settings
from infra.stack.embedded import EmbeddedStack

STREAM = "word " * 2000
"""About 100 s of streaming at 5 characters per 50 ms."""


async def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> float:
    """The loop time at which ``predicate()`` first held (polled every millisecond)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the stop did not land")
        await asyncio.sleep(0.001)
    return loop.time()


async def one_stop(h: Harness, chat: int) -> tuple[float, float]:
    """(seconds to the partial answer shown, seconds to the ack) after one ``/stop``."""
    h.telegram.add_private_chat(chat)
    h.fund(chat)
    h.claude.script(text_reply(STREAM, chunk_delay=0.05, chunk_size=5))
    command = message_command(chat, "long please", message_id=1)
    h.submit(command)
    await _until(lambda: any(d.history for d in h.telegram.drafts(chat).values()))
    stopped_at = asyncio.get_running_loop().time()
    h.submit(stop_command(chat))
    shown = asyncio.create_task(_until(lambda: bool(h.telegram.bot_messages(chat))))
    acked = await _until(lambda: command.id in h.acked)
    return await shown - stopped_at, acked - stopped_at


def _row(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
    return f"| {name} | {statistics.median(ms):.0f} ms | {p90:.0f} ms | {ms[-1]:.0f} ms |"


async def bench(args: argparse.Namespace) -> None:
    # the emulator logs each stream the stop cut ("Cannot write to closing transport")
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    settings = load_settings()
    configured = configured_endpoints(settings)
    stack: EmbeddedStack | None = None
    if configured is None:
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="bench-stack-")))
        state = await stack.start()
        endpoints = Endpoints(state.kafka_bootstrap, state.database_url, state.redis_url, True)
    else:
        endpoints = configured
    profile = await Root(settings, endpoints).profile()
    telegram = TelegramEmulator()
    telegram.configure_flood(enabled=False)
    claude = ClaudeEmulator(record=False)
    await telegram.start()
    await claude.start()
    prefix = f"benchstop{uuid.uuid4().hex[:6]}."
    load_before = os.getloadavg()[0]
    shown: list[float] = []
    acked: list[float] = []
    try:
        async with running_harness(endpoints, profile, prefix, telegram, claude) as h:
            await one_stop(h, 7_100_000)  # warm-up
            for chat in range(7_100_001, 7_100_001 + args.runs):
                to_shown, to_ack = await one_stop(h, chat)
                shown.append(to_shown)
                acked.append(to_ack)
        print(f"# {platform.node()} nproc={os.cpu_count()} python={platform.python_version()}")
        print(
            f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; runs={args.runs}; "
            f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
        print("| from /stop submitted to | p50 | p90 | max |")
        print("|---|---:|---:|---:|")
        print(_row("partial answer shown", shown))
        print(_row("turn_cancelled + charge durable (ack)", acked), flush=True)
    finally:
        await telegram.stop()
        await claude.stop()
        if stack is not None:
            with contextlib.suppress(Exception):
                stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()

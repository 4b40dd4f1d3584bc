"""The tool runtime's own overhead per tool call, and turns/s with one tool call per turn,
in process (no broker): the thread actor with the in-memory state store and an in-memory
record sink, the Claude and Telegram emulators in this process (instant answers).

Run: ``.venv/bin/python bench/bench_tools.py [--turns 300] [--threads 1 20]``.

Each turn is a message asking the emulator for one call of ``bench_noop`` (a tool that does
no work): model call -> tool_use -> ``tool_call_requested`` committed -> the call ->
``tool_call_completed`` committed -> ``tool_result`` -> second model call -> answer. The
runtime's overhead is the worker's own histogram ``claudegram_tool_step_overhead_seconds``
(from the tool_use in hand to the next request ready, minus the tool's work): here it is
the CPU cost of the runtime (events, evolve, state encoding, charges), since no commit waits
for a broker. The figure with the real broker's round trips is ``bench_pipeline.py --tool
estimate_cost``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from actors.thread.tools import Tool, ToolContext, ToolResult
from actors.thread.tools.catalog import default_registry
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.testing import make_anthropic, make_bot
from devkit.harness.thread import message_command
from devkit.stores import MemoryThreadStore
from infra.files.thread_files import StoreFiles
from infra.metrics import REGISTRY
from infra.threads.actor import ThreadActor
from infra.threads.claude_client import ClaudeClient
from infra.threads.facts import ActorConfig
from infra.threads.generation_slots import GenerationSlots
from infra.threads.log_views import TailBalances, TailPreferences
from infra.threads.mailbox import InboxItem
from infra.threads.store_port import OutboxRecord
from infra.threads.telegram_output import TelegramOutput
from infra.threads.tool_ports import ClaudeModelPort
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn import TurnRunner
from infra.threads.turn_state import TurnConfig

METRIC = "claudegram_tool_step_overhead_seconds"


class CountingSink:
    """Records are encoded by the actor as usual, then dropped here (no broker)."""

    def __init__(self) -> None:
        self.records = 0

    async def send_all(self, records: Sequence[OutboxRecord]) -> None:
        self.records += len(records)


async def _noop(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    return ToolResult(output="ok")


NOOP = Tool(
    name="bench_noop",
    description="Does nothing (benchmark).",
    input_schema={"type": "object"},
    run=_noop,
    on_interrupt="rerun_once",
)


def _buckets() -> list[tuple[float, float]]:
    found = []
    for metric in REGISTRY.collect():
        if metric.name != METRIC:
            continue
        for sample in metric.samples:
            if sample.name == METRIC + "_bucket":
                found.append((float(sample.labels["le"]), sample.value))
    return sorted(found)


def _quantile(buckets: list[tuple[float, float]], before: dict[float, float], q: float) -> str:
    counts = [(le, n - before.get(le, 0.0)) for le, n in buckets]
    total = counts[-1][1] if counts else 0
    for le, n in counts:
        if total and n >= q * total:
            return f"<= {le * 1000:g} ms"
    return "n/a"


async def bench(args: argparse.Namespace) -> None:
    telegram = TelegramEmulator()
    telegram.configure_flood(enabled=False)
    telegram.record_calls = False
    claude = ClaudeEmulator(record=False)
    await telegram.start()
    await claude.start()
    bot = make_bot(telegram)
    client = ClaudeClient(make_anthropic(claude))
    balances = TailBalances()
    tools = ToolRuntime(
        default_registry().with_tools(NOOP),
        claude=ClaudeModelPort(client),
        files=StoreFiles(None, bot),
        balances=balances,
    )
    output = TelegramOutput(bot)
    actor = ThreadActor(
        store=MemoryThreadStore(),
        sink=CountingSink(),
        runner=TurnRunner(client, output, TurnConfig(model_retries=0, drafts=False), tools=tools),
        slots=GenerationSlots(None, limit=10_000),
        balances=balances,
        preferences=TailPreferences(),
        config=ActorConfig(balance_wait=0),
    )
    print(f"# {platform.node()} nproc={os.cpu_count()} python={platform.python_version()}")
    print("| threads | turns | turns/s | runtime overhead per tool step: mean / p50 / p99 |")
    print("|---:|---:|---:|---:|")
    base = 7_000_000
    try:
        for n in args.threads:
            for chat in range(base, base + n):
                telegram.add_private_chat(chat)
                balances.balances[chat] = Decimal(1000)
            await _run(actor, base, n, 5)  # warm-up
            before = dict(_buckets())
            sum_before = REGISTRY.get_sample_value(METRIC + "_sum") or 0.0
            count_before = REGISTRY.get_sample_value(METRIC + "_count") or 0.0
            started = time.perf_counter()
            done = await _run(actor, base, n, args.turns)
            span = time.perf_counter() - started
            total = (REGISTRY.get_sample_value(METRIC + "_sum") or 0.0) - sum_before
            count = (REGISTRY.get_sample_value(METRIC + "_count") or 0.0) - count_before
            buckets = _buckets()
            mean = total / count * 1000 if count else float("nan")
            print(
                f"| {n} | {done} | {done / span:.0f} | {mean:.2f} ms / "
                f"{_quantile(buckets, before, 0.5)} / {_quantile(buckets, before, 0.99)} |",
                flush=True,
            )
            base += n
    finally:
        await actor.stop()
        await client.close()
        await bot.session.close()
        await telegram.stop()
        await claude.stop()


async def _run(actor: ThreadActor, base: int, threads: int, turns: int) -> int:
    """``turns`` turns over ``threads`` closed-loop threads; each waits for its ack."""
    counter = iter(range(turns))
    done = 0

    async def loop(chat: int) -> None:
        nonlocal done
        for message_id, _ in enumerate(counter, start=1):
            acked = asyncio.get_running_loop().create_future()
            command = message_command(chat, "use tool bench_noop {}", message_id=message_id)
            actor.submit(InboxItem(command, 0, lambda f=acked: f.done() or f.set_result(None)))
            await asyncio.wait_for(acked, 60)
            done += 1

    await asyncio.gather(*(loop(base + c) for c in range(threads)))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 20])
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()

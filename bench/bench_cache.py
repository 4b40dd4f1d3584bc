"""Prompt caching over a 10-turn thread: cache-read share of input tokens and the cost.

Run: .venv/bin/python bench/bench_cache.py [--no-record]

Each turn goes through the real request builder (`actors.thread.context.build_request`, which
places the breakpoints and picks the lifetime) and the real Claude adapter
(`infra.threads.claude_client.ClaudeClient`, streaming) against the in-process Claude
emulator, whose prompt cache follows the API's rules (prefixes, 20-block look-back, per-model
minimum, 5m/1h lifetimes). The emulator's clock is the simulated time of the thread, so the
user's pace decides what is still cached. The emulator counts about 4 characters a token.

Workload: 10 turns; user messages of 10-150 tokens and answers of 150-900 tokens drawn with
a fixed seed (realistic chat answers), as English-like text. Scenarios vary the model (its
minimum cacheable length), the tools offered (none today; 8 tool definitions of about 2,500
tokens as issue 12 adds) and the pace (gaps of 1-3 minutes, or 8-25 minutes). Each row also
prices the same thread without caching (every input token at the input price) with the
project's price table; output is priced the same in both.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import shlex
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from anthropic import AsyncAnthropic

from actors.billing.pricing import price
from actors.thread.cache_points import CacheTtl, place_cache_breakpoints
from actors.thread.context import build_request
from actors.thread.models import HAIKU, OPUS, SONNET
from actors.thread.state import HistoryItem, ThreadState
from devkit.emulators.claude import ClaudeEmulator, text_reply
from events.usage import Usage
from infra.threads.claude_client import ClaudeClient, StreamProgress

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
TURNS = 10
START = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "that",
    "is",
    "for",
    "it",
    "with",
    "as",
    "on",
    "be",
    "this",
    "by",
    "are",
    "from",
    "or",
    "at",
    "an",
    "which",
    "can",
    "your",
    "will",
    "more",
    "about",
    "time",
    "when",
    "use",
    "one",
    "may",
    "also",
    "some",
    "other",
    "than",
    "its",
    "into",
    "only",
    "then",
    "model",
    "answer",
    "cache",
    "thread",
    "message",
    "because",
    "example",
    "value",
    "function",
    "request",
    "return",
    "data",
]


def tool_definitions(count: int = 8, tokens_each: int = 310) -> list[dict[str, object]]:
    """Tool definitions of about the size issue 12's tools have (description + schema)."""
    rng = random.Random(7)
    return [
        {
            "name": f"tool_{i}",
            "description": prose(rng, tokens_each - 40),
            "input_schema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": prose(rng, 20)},
                    "limit": {"type": "integer", "description": "How many results."},
                },
                "required": ["query"],
            },
        }
        for i in range(count)
    ]


def prose(rng: random.Random, tokens: int) -> str:
    words: list[str] = []
    chars = 0
    while chars < tokens * 4:
        word = rng.choice(WORDS)
        words.append(word)
        chars += len(word) + 1
    return " ".join(words).capitalize() + "."


@dataclass(frozen=True)
class Scenario:
    name: str
    model: str
    tools: bool
    gaps: tuple[int, int]  # seconds between user messages (uniform range)
    force_ttl: CacheTtl | None = None  # override the builder's choice (for comparison)


@dataclass
class Outcome:
    read_share_2_10: float
    read_share_all: float
    input_tokens_total: int
    cost_cached: Decimal
    cost_uncached: Decimal
    ttl: str


async def run_thread(emulator: ClaudeEmulator, client: ClaudeClient, s: Scenario) -> Outcome:
    rng = random.Random(2026)
    tools = tool_definitions() if s.tools else []
    history: list[HistoryItem] = []
    now = 0.0
    emulator.clock = lambda: now
    reads: list[int] = []
    totals: list[int] = []
    cached_cost = uncached_cost = Decimal(0)
    ttls: set[str] = set()
    for turn in range(TURNS):
        user_text = prose(rng, rng.randint(10, 150))
        answer = prose(rng, rng.randint(150, 900))
        sent = START + dt.timedelta(seconds=now)
        history.append(HistoryItem(role="user", text=user_text, message_ids=(turn,), sent_at=sent))
        state = ThreadState(key="1:0", history=tuple(history))
        request = build_request(state, model=s.model, personality=None, tools=tools)
        kwargs = request.kwargs
        ttl: CacheTtl = s.force_ttl or request.cache_ttl
        if s.force_ttl is not None:
            new_tools, system, messages = place_cache_breakpoints(
                kwargs.get("tools") or [], kwargs["system"], kwargs["messages"], ttl
            )
            kwargs = {**kwargs, "system": system, "messages": messages}
            if new_tools:
                kwargs["tools"] = new_tools
        ttls.add(ttl)
        emulator.script(text_reply(answer))
        result = await client.stream(kwargs, StreamProgress())
        usage = result.usage
        history.append(HistoryItem(role="assistant", text=result.text, turn_id=str(turn)))
        total = (
            usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        )
        reads.append(usage.cache_read_input_tokens)
        totals.append(total)
        at = START + dt.timedelta(seconds=now)
        cached_cost += price(at=at, model=s.model, usage=usage).total
        plain = Usage(input_tokens=total, output_tokens=usage.output_tokens)
        uncached_cost += price(at=at, model=s.model, usage=plain).total
        now += 8 + rng.randint(*s.gaps)  # answer time, then the user's pause
    return Outcome(
        read_share_2_10=sum(reads[1:]) / sum(totals[1:]),
        read_share_all=sum(reads) / sum(totals),
        input_tokens_total=sum(totals),
        cost_cached=cached_cost,
        cost_uncached=uncached_cost,
        ttl="/".join(sorted(ttls)),
    )


SCENARIOS = (
    Scenario("Sonnet 4.6, no tools, 1-3 min pace", SONNET, False, (60, 180)),
    Scenario("Sonnet 4.6, 8 tools, 1-3 min pace", SONNET, True, (60, 180)),
    Scenario("Sonnet 4.6, 8 tools, 8-25 min pace (builder's choice)", SONNET, True, (480, 1500)),
    Scenario("Sonnet 4.6, 8 tools, 8-25 min pace, 5m forced", SONNET, True, (480, 1500), "5m"),
    Scenario("Sonnet 4.6, no tools, 8-25 min pace (builder's choice)", SONNET, False, (480, 1500)),
    Scenario("Haiku 4.5, no tools, 1-3 min pace", HAIKU, False, (60, 180)),
    Scenario("Haiku 4.5, 8 tools, 1-3 min pace", HAIKU, True, (60, 180)),
    Scenario("Opus 4.6, 8 tools, 1-3 min pace", OPUS, True, (60, 180)),
)


async def main_async() -> str:
    rows = [
        "| scenario | TTL used | read share turns 2-10 | read share all | input tokens "
        "| cost cached $ | cost uncached $ | saving |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    emulator = ClaudeEmulator()
    await emulator.start()
    client = ClaudeClient(
        AsyncAnthropic(base_url=emulator.base_url, api_key="bench", max_retries=0)
    )
    try:
        for scenario in SCENARIOS:
            emulator.reset()
            o = await run_thread(emulator, client, scenario)
            saving = 1 - o.cost_cached / o.cost_uncached
            rows.append(
                f"| {scenario.name} | {o.ttl} | {o.read_share_2_10:.1%} "
                f"| {o.read_share_all:.1%} | {o.input_tokens_total:,} "
                f"| {o.cost_cached:.4f} | {o.cost_uncached:.4f} | {saving:.1%} |"
            )
    finally:
        await client.close()
        await emulator.stop()
    return "\n".join(rows)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--no-record", action="store_true", help="do not append to bench/RESULTS.md"
    )
    args = parser.parse_args()
    table = asyncio.run(main_async())
    print(table)
    if not args.no_record:
        command = ".venv/bin/python bench/bench_cache.py " + shlex.join(sys.argv[1:])
        today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        machine = (
            f"{os.cpu_count()} CPUs (os.cpu_count), {_cpu_model()}, "
            f"Python {platform.python_version()}"
        )
        with RESULTS.open("a") as out:
            out.write(
                f"\n## Prompt caching over a 10-turn thread (`bench/bench_cache.py`, {today} UTC)"
                f"\n\n- Command: `{command.strip()}`\n- Machine: {machine}\n"
                "- Method: module docstring of bench/bench_cache.py (real request builder and"
                " Claude adapter, emulator's prompt-cache model, simulated clock).\n\n"
                f"{table}\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

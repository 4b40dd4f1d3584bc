"""Per-call latency of the emulators through the real clients, on loopback.

Run: .venv/bin/python bench/bench_emulators.py [--calls N]

The emulators run in their own process (`python -m devkit.emulators --no-flood`), as they do for
the bot under test. For comparison the same clients also call a "canned" server (a separate
process answering fixed, pre-encoded responses), so `added` = emulator - canned is what the
emulators themselves cost per call. Prints a table and appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
TOKEN = "123456789:EMULATOR-TEST-TOKEN"
CHAT = 4242
REPLY = "The emulator answers with this sentence, streamed in several deltas. " * 4

CANNED_SERVER = r"""
import asyncio, json, sys
from aiohttp import web
msg = {"message_id": 1, "date": 1700000000, "chat": {"id": 4242, "type": "private"},
       "from": {"id": 123456789, "is_bot": True, "first_name": "B"}, "text": "hello"}
tg = json.dumps({"ok": True, "result": msg}).encode()
REPLY = sys.argv[1]
usage = {"input_tokens": 5, "output_tokens": 70, "cache_creation_input_tokens": 0,
         "cache_read_input_tokens": 0}
message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
           "content": [{"type": "text", "text": REPLY}], "stop_reason": "end_turn",
           "stop_sequence": None, "usage": usage}
cl = json.dumps(message).encode()
def ev(name, data):
    return b"event: " + name.encode() + b"\ndata: " + json.dumps(data).encode() + b"\n\n"
start = dict(message, content=[], stop_reason=None)
sse = ev("message_start", {"type": "message_start", "message": start})
sse += ev("content_block_start", {"type": "content_block_start", "index": 0,
          "content_block": {"type": "text", "text": ""}})
for i in range(0, len(REPLY), 12):
    sse += ev("content_block_delta", {"type": "content_block_delta", "index": 0,
              "delta": {"type": "text_delta", "text": REPLY[i:i + 12]}})
sse += ev("content_block_stop", {"type": "content_block_stop", "index": 0})
sse += ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
          "stop_sequence": None}, "usage": {"output_tokens": 70}})
sse += ev("message_stop", {"type": "message_stop"})
async def tg_handler(request):
    await request.read()
    return web.Response(body=tg, content_type="application/json")
async def cl_handler(request):
    body = await request.json()
    if body.get("stream"):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(sse)
        await resp.write_eof()
        return resp
    return web.Response(body=cl, content_type="application/json")
async def main():
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", tg_handler)
    app.router.add_post("/v1/messages", cl_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"TELEGRAM_API_URL=http://127.0.0.1:{port}", flush=True)
    print(f"ANTHROPIC_BASE_URL=http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def _spawn(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    while "TELEGRAM_API_URL" not in env or "ANTHROPIC_BASE_URL" not in env:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
        if not line:
            raise RuntimeError(f"server exited early: {args}")
        key, _, value = line.partition("=")
        env[key] = value
    return proc, env


async def _measure(call: Callable[[], Awaitable[object]], calls: int) -> list[float]:
    for _ in range(min(5, calls)):
        await call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


Calls = dict[str, Callable[[], Awaitable[object]]]


async def _clients(
    env: dict[str, str], calls: int, emulator: bool
) -> tuple[Calls, Callable[[], Awaitable[None]]]:
    if emulator:
        async with aiohttp.ClientSession() as http:
            url = f"{env['TELEGRAM_API_URL']}/_control/_/inject/text"
            async with http.post(url, json={"chat_id": CHAT, "text": "hi"}) as resp:
                resp.raise_for_status()
            replies = {
                "replies": [{"content": [{"type": "text", "text": REPLY}]}] * (2 * calls + 200)
            }
            async with http.post(
                f"{env['ANTHROPIC_BASE_URL']}/_control/replies", json=replies
            ) as resp:
                resp.raise_for_status()
    session = AiohttpSession(api=TelegramAPIServer.from_base(env["TELEGRAM_API_URL"]))
    bot = Bot(TOKEN, session=session)
    client = AsyncAnthropic(base_url=env["ANTHROPIC_BASE_URL"], api_key="bench", max_retries=0)
    messages: list[MessageParam] = [{"role": "user", "content": "Say something."}]
    markdown = "*bold* _it_ `code` and text\\. " * 10

    async def send_message() -> object:
        return await bot.send_message(CHAT, "hello")

    async def send_markdown() -> object:
        return await bot.send_message(CHAT, markdown, parse_mode="MarkdownV2")

    async def create() -> object:
        return await client.messages.create(
            model="claude-sonnet-4-6", max_tokens=1024, messages=messages
        )

    async def stream() -> object:
        async with client.messages.stream(
            model="claude-sonnet-4-6", max_tokens=1024, messages=messages
        ) as s:
            return await s.get_final_message()

    async def close() -> None:
        await client.close()
        await session.close()

    return {
        "aiogram sendMessage (plain)": send_message,
        "aiogram sendMessage (MarkdownV2, 330 chars)": send_markdown,
        "anthropic messages.create": create,
        "anthropic messages.stream (25 deltas)": stream,
    }, close


async def _run(
    emu_env: dict[str, str], canned_env: dict[str, str], calls: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Emulator and canned calls alternate in blocks, so machine load hits both alike."""
    emu_calls, emu_close = await _clients(emu_env, calls, emulator=True)
    canned_calls, canned_close = await _clients(canned_env, calls, emulator=False)
    emulated: dict[str, list[float]] = {}
    canned: dict[str, list[float]] = {}
    blocks = 10
    try:
        for name in emu_calls:
            emulated[name], canned[name] = [], []
            for _ in range(blocks):
                emulated[name] += await _measure(emu_calls[name], max(1, calls // blocks))
                canned[name] += await _measure(canned_calls[name], max(1, calls // blocks))
    finally:
        await emu_close()
        await canned_close()
    return emulated, canned


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def main_async(calls: int) -> str:
    emu_proc, emu_env = await _spawn(sys.executable, "-m", "devkit.emulators", "--no-flood")
    canned_proc, canned_env = await _spawn(sys.executable, "-c", CANNED_SERVER, REPLY)
    try:
        emulated, canned = await _run(emu_env, canned_env, calls)
    finally:
        for proc in (emu_proc, canned_proc):
            proc.terminate()
            await proc.wait()
    header = "| call | emulator median ms | emulator p99 ms | canned median ms | added median ms |"
    rows = [header, "|---|---:|---:|---:|---:|"]
    for name, samples in emulated.items():
        med, p99 = statistics.median(samples), _p(samples, 0.99)
        base = statistics.median(canned[name])
        rows.append(f"| {name} | {med:.2f} | {p99:.2f} | {base:.2f} | {med - base:+.2f} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000, help="measured calls per row")
    parser.add_argument(
        "--no-record", action="store_true", help="do not append to bench/RESULTS.md"
    )
    args = parser.parse_args()
    table = asyncio.run(main_async(args.calls))
    print(table)
    if not args.no_record:
        command = ".venv/bin/python bench/bench_emulators.py " + shlex.join(sys.argv[1:])
        today = dt.date.today().isoformat()
        machine = f"{os.cpu_count()} CPUs (nproc), {_cpu_model()}"
        section = (
            f"\n## Emulators: per-call latency through the real clients ({today})\n\n"
            f"- Command: `{command.strip()}`\n"
            f"- {args.calls} calls per row, in 10 blocks alternating with the canned server\n"
            "  (5 warm-up calls per block)\n"
            f"- Machine: {machine}, Python {platform.python_version()}\n"
            "- Emulators in their own process (`python -m devkit.emulators --no-flood`);\n"
            "  `canned` is a separate aiohttp process answering fixed pre-encoded responses,\n"
            "  so `added` is the emulators' own cost per call.\n\n"
            f"{table}\n"
        )
        if not RESULTS.exists():
            RESULTS.write_text("# Benchmark results\n")
        with RESULTS.open("a") as fh:
            fh.write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

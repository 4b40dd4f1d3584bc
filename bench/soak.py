"""Soak: mixed load at a steady rate for a long time; memory of every service and log errors.

Run: ``.venv/bin/python bench/soak.py [--minutes 60] [--rate 50] [--chats 500]
[--py-spy DIR]``.

Starts an embedded stack of its own (in a temporary folder, deleted at the end), the Telegram
and Claude emulators in this process, and ``botctl run`` on that stack (every service its own
process, as deployed). After a warm-up (one message answered), it sends ``--rate`` user
turns per second for ``--minutes``, open loop, spread over ``--chats`` private chats (a chat
gets its next message only once its previous one was answered, so a slow bot shows as
a lower achieved rate, not as batched turns); about one turn in 20 is a command instead
(/balance, /help, /model), and one in 200 a /pay invoice. Reported: turns sent and
answered, achieved rate, answer latency p50/p99, RSS of every service process at the start
and the end of the load (and the growth), the CPU time each service process used during the
load (user + system, in total and per answered turn; this process's own, the load generator
and both emulators, apart), and the error lines in the services' logs. With ``--py-spy DIR``
every service process is sampled by py-spy during the load (``DIR/<service>.raw``, collapsed
stacks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from devkit.emulators.testing import running_claude, running_telegram
from infra.cli.stack_cmds import SERVICES
from infra.services.process_table import service_pids
from infra.stack.embedded import EmbeddedStack

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "7200000001:soak-bench-bot-token"
FIRST_CHAT = 7_200_000


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def start_py_spy(
    pids: dict[str, int], folder: str, seconds: float
) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling every service process for ``seconds`` (collapsed stacks)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    spies = []
    for name, pid in pids.items():
        argv = ["py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds))]
        argv += ["--rate", "50", "--nonblocking", "--format", "raw"]
        argv += ["--output", str(Path(folder) / f"{name}.raw")]
        spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return spies


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Load:
    telegram: TelegramEmulator
    claude: ClaudeEmulator
    chats: int
    sent: int = 0
    answered: int = 0
    latencies: list[float] = field(default_factory=list)
    busy: set[int] = field(default_factory=set)

    async def turn(self, chat: int, n: int) -> None:
        self.busy.add(chat)
        try:
            roll = random.random()
            before = len(self.telegram.bot_messages(chat, token=TOKEN))
            if roll < 0.005:
                self.telegram.send_command(chat, "pay", "10", token=TOKEN)
            elif roll < 0.05:
                command = random.choice(["balance", "help", "model"])
                self.telegram.send_command(chat, command, token=TOKEN)
            else:
                self.claude.script(text_reply(f"soak answer {n}", contains=f"soak{n}q"))
                self.telegram.send_text(chat, f"soak{n}q please answer", token=TOKEN)
            self.sent += 1
            started = time.monotonic()

            def answered() -> bool:
                messages = self.telegram.bot_messages(chat, token=TOKEN)
                return len(messages) > before or bool(self.telegram.invoices(chat, token=TOKEN))

            try:
                await self.telegram.wait_until(answered, 120)
            except TimeoutError:
                return
            self.answered += 1
            self.latencies.append(time.monotonic() - started)
        finally:
            self.busy.discard(chat)

    async def run(self, rate: float, seconds: float) -> None:
        tasks: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while loop.time() - start < seconds:
            idle = [c for c in range(FIRST_CHAT, FIRST_CHAT + self.chats) if c not in self.busy]
            if idle:
                task = asyncio.create_task(self.turn(random.choice(idle), n))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                n += 1
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
        await asyncio.gather(*tasks)


def errors_in(log: Path) -> list[str]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line or line.startswith("botctl: error"):
                found.append(line[:300])
            continue
        if isinstance(record, dict) and record.get("level") in ("error", "critical"):
            found.append(line[:300])
    return found


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``botctl run`` with ``env``, output to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "infra.cli.main", "run"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop_bot(bot: subprocess.Popen[bytes]) -> None:
    bot.send_signal(signal.SIGTERM)
    try:
        bot.wait(60)
    except subprocess.TimeoutExpired:
        bot.kill()
        bot.wait(10)


async def soak(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        stack = EmbeddedStack(Path(tmp) / "stack")
        state = await stack.start()
        log = Path(tmp) / "bot.log"
        try:
            async with running_telegram() as telegram, running_claude() as claude:
                telegram.configure_flood(enabled=False)
                for chat in range(FIRST_CHAT, FIRST_CHAT + args.chats):
                    telegram.add_private_chat(chat, token=TOKEN)
                env = {
                    **os.environ,
                    "KAFKA_BOOTSTRAP_SERVERS": state.kafka_bootstrap,
                    "DATABASE_URL": state.database_url,
                    "REDIS_URL": state.redis_url,
                    "TELEGRAM_API_URL": telegram.base_url,
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "ANTHROPIC_BASE_URL": claude.base_url,
                    "ANTHROPIC_API_KEY": "soak-key",
                    "BOTCTL_STATE_DIR": str(Path(tmp) / "botctl"),
                    "LOG_LEVEL": "WARNING",
                }
                bot = start_bot(env, log)
                try:
                    await measure(args, bot, telegram, claude, log)
                finally:
                    await asyncio.to_thread(stop_bot, bot)
        finally:
            stack.reset()


async def measure(
    args: argparse.Namespace,
    bot: subprocess.Popen[bytes],
    telegram: TelegramEmulator,
    claude: ClaudeEmulator,
    log: Path,
) -> None:
    warm = Load(telegram, claude, 1)
    began = time.monotonic()
    await warm.turn(FIRST_CHAT, -1)
    while warm.answered == 0:
        if bot.poll() is not None:
            raise SystemExit(f"botctl run exited:\n{log.read_text()[-3000:]}")
        await warm.turn(FIRST_CHAT, -1)
    print(f"warm-up: first answer after {time.monotonic() - began:.0f} s", flush=True)
    pids = service_pids(bot.pid, SERVICES)
    rss_start = {name: rss_mb(pid) for name, pid in pids.items()}
    errors_before = len(errors_in(log))
    load = Load(telegram, claude, args.chats)
    spies = start_py_spy(pids, args.py_spy, args.minutes * 60) if args.py_spy else []
    cpu_start = {name: cpu_s(pid) for name, pid in pids.items()}
    own_start = own_cpu_s()
    started = time.monotonic()
    await load.run(args.rate, args.minutes * 60)
    elapsed = time.monotonic() - started
    now = service_pids(bot.pid, SERVICES)
    cpu = {name: cpu_s(pid) - cpu_start[name] for name, pid in now.items() if name in cpu_start}
    cpu["(load generator and emulators)"] = own_cpu_s() - own_start
    rss_end = {name: rss_mb(pid) for name, pid in now.items()}
    for spy in spies:
        await asyncio.to_thread(spy.wait)
    report(args, load, elapsed, pids, now, rss_start, rss_end, errors_in(log)[errors_before:])
    report_cpu(cpu, load.answered)


def report(
    args: argparse.Namespace,
    load: Load,
    elapsed: float,
    pids: dict[str, int],
    now: dict[str, int],
    rss_start: dict[str, float],
    rss_end: dict[str, float],
    errors: list[str],
) -> None:
    lat = sorted(load.latencies) or [0.0]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"soak: {platform.node()}, {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}")
    print(
        f"{args.minutes:g} min at {args.rate:g} turns/s asked over {args.chats} chats: "
        f"{load.sent} sent, {load.answered} answered ({load.answered / elapsed:.1f}/s), "
        f"latency p50 {statistics.median(lat):.2f} s p99 {p99:.2f} s"
    )
    for name in SERVICES:
        start, end = rss_start.get(name, 0.0), rss_end.get(name, 0.0)
        restarted = " (restarted during the soak)" if pids.get(name) != now.get(name) else ""
        print(f"  {name:15} RSS {start:7.1f} MB -> {end:7.1f} MB ({end - start:+.1f}){restarted}")
    print(f"error lines in the services' logs during the load: {len(errors)}")
    for line in errors[:20]:
        print(f"  {line}")


def report_cpu(cpu: dict[str, float], answered: int) -> None:
    """CPU seconds during the load, per process and per answered turn."""
    per = max(answered, 1)
    print("CPU during the load (user + system):")
    for name, seconds in cpu.items():
        print(f"  {name:31} {seconds:8.1f} s  {1000 * seconds / per:7.1f} ms per answered turn")
    bot = sum(s for name, s in cpu.items() if name in SERVICES)
    print(f"  {'bot (all services)':31} {bot:8.1f} s  {1000 * bot / per:7.1f} ms per answered turn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0, help="user turns per second")
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--py-spy", metavar="DIR", help="sample every service with py-spy")
    args = parser.parse_args()
    if args.py_spy and shutil.which("py-spy") is None:
        parser.error("--py-spy needs the py-spy command (pip install py-spy==0.4.3)")
    asyncio.run(soak(args))


if __name__ == "__main__":
    main()

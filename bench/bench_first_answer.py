"""From `botctl run` to the answer of a first message, and the bot's memory.

Starts the Telegram and Claude emulators (`botctl emulators`), then `botctl run` against
them on the embedded stack, sends one text message as soon as `botctl run` is started, and
measures until the bot's answer shows in the chat, with the CPU time the bot's processes used
until then (user + system: a figure the machine's load changes less than the wall time).
Then reads the resident memory of `botctl run` and the processes below it (the bot's own
processes: the embedded broker, PostgreSQL and Redis run in sessions of their own and are
left out), as RSS and as PSS (proportional: the pages forked services share with their fork
server counted once), and stops the bot with SIGINT (Ctrl-C).

Usage: .venv/bin/python bench/bench_first_answer.py [--processes auto|one|separate]
       [--state-dir DIR] [--runs 2]
With a stack already up in DIR (`botctl stack up`), `botctl run` reuses it; else it starts it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from infra.services.process_table import descendants

ROOT = Path(__file__).resolve().parents[1]
CHAT = 777001


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (a fork's, its fork server's) counted once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stack_pids(state_dir: str) -> set[int]:
    """The embedded servers' pids (recorded by the stack), not the bot's own processes."""
    try:
        state = json.loads((Path(state_dir) / "stack.json").read_text())
    except (OSError, ValueError):
        return set()
    return {int(s["process"]["pid"]) for s in state.values()}


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def _start_emulators() -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.cli.main", "emulators", "--no-flood"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    env: dict[str, str] = {}
    assert proc.stdout is not None
    while len(env) < 4:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulators exited")
        name, _, value = line.strip().partition("=")
        env[name] = value
    return proc, env


def one_run(
    emulated: dict[str, str], processes: str, state_dir: str, limit: float = 180.0
) -> dict[str, float]:
    telegram = emulated["TELEGRAM_API_URL"]
    _post(f"{telegram}/_control/reset", {})
    _post(f"{telegram}/_control/_/chats", {"chat_id": CHAT, "first_name": "Bench"})
    env = {
        **os.environ,
        **emulated,
        "BOTCTL_STATE_DIR": state_dir,
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    }
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    started = time.monotonic()
    bot = subprocess.Popen(
        [sys.executable, "-m", "infra.cli.main", "run", "--processes", processes],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(state_dir) / "bench-run.log", "ab"),  # noqa: SIM115
    )
    try:
        _post(f"{telegram}/_control/_/inject/text", {"chat_id": CHAT, "text": "hello"})
        answered = None
        cpu_s = 0.0
        while answered is None and time.monotonic() - started < limit:
            chat = _get(f"{telegram}/_control/_/chats/{CHAT}")
            if any(m["from_bot"] and m["text"] for m in chat["chat"]["messages"]):
                answered = time.monotonic() - started
                cpu_s = sum(_cpu_s(p) for p in descendants(bot.pid, _stack_pids(state_dir)))
            else:
                time.sleep(0.05)
        if answered is None:
            raise RuntimeError(f"no answer within {limit:g} s")
        time.sleep(3.0)  # settle: every service is up by now
        pids = descendants(bot.pid, _stack_pids(state_dir))
        rss_mb = sum(_rss_kb(p) for p in pids) / 1024
        pss_mb = sum(_pss_kb(p) for p in pids) / 1024
        return {
            "first_answer_s": round(answered, 2),
            "bot_cpu_s_to_answer": round(cpu_s, 2),
            "bot_rss_mb": round(rss_mb, 1),
            "bot_pss_mb": round(pss_mb, 1),
            "processes": len(pids),
            "load1": os.getloadavg()[0],
        }
    finally:
        bot.send_signal(signal.SIGINT)
        bot.wait(300)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", default="auto", choices=("auto", "one", "separate"))
    parser.add_argument("--state-dir", default=str(ROOT / ".botctl-bench"))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--limit", type=float, default=180.0, help="seconds to wait for the answer")
    args = parser.parse_args()
    emulators, emulated = _start_emulators()
    try:
        for run in range(args.runs):
            result = one_run(emulated, args.processes, args.state_dir, args.limit)
            print(json.dumps({"run": run + 1, "processes_mode": args.processes, **result}))
    finally:
        emulators.send_signal(signal.SIGINT)
        emulators.wait(30)


if __name__ == "__main__":
    main()

"""``botctl chaos --runs N``: the randomized fault suite's long profile.

It runs the suite in ``tests/chaos`` (a source checkout with the ``dev`` extra: the suite
drives the bot through the Telegram and Claude emulators) with N runs, outages of
``--outage-seconds`` (30 by default) and the given or a random seed, then prints the report:
runs, faults injected by kind, violations. Exit status 0 only when there is none.

``botctl chaos --rolling-restart-turns N`` runs the issue's rolling restart instead: every
service restarted in turn during N streaming turns (``tests/chaos/scenario_rolling_restart.py``),
with the same checks and the turns' longest pauses beyond the restart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "tests" / "chaos"
ROLLING_SCENARIO = "scenario_rolling_restart.py"
"""``--rolling-restart-turns N``: every service restarted in turn during N streaming turns."""


def register(commands: Any) -> None:
    chaos = commands.add_parser(
        "chaos", help="run N randomized fault runs against the bot on a stack of its own"
    )
    chaos.add_argument("--runs", type=int, default=100, help="how many runs (default 100)")
    chaos.add_argument("--seed", type=int, default=None, help="seed (default: random)")
    chaos.add_argument(
        "--outage-seconds",
        type=float,
        default=30.0,
        help="how long a stopped broker, PostgreSQL or Redis stays down (default 30)",
    )
    chaos.add_argument(
        "--minutes", type=float, default=None, help="start no run after this many minutes"
    )
    chaos.add_argument("--lanes", type=int, default=3, help="how many runs go at once (default 3)")
    chaos.add_argument(
        "--full-check-every",
        type=int,
        default=20,
        help="botctl verify and the whole-log checks after every N runs and the last (default 20)",
    )
    chaos.add_argument(
        "--weights",
        default=None,
        help="fault kinds' weights, e.g. kill9=0.6,duplicate=0.3,outage=0.05,rolling_restart=0.05",
    )
    chaos.add_argument(
        "--rolling-restart-turns",
        type=int,
        default=None,
        metavar="N",
        help="instead of the runs: restart every service in turn during N streaming turns",
    )
    chaos.add_argument("--log-dir", type=Path, default=None, help="keep botctl run's log here")
    chaos.add_argument("--report", type=Path, default=None, help="also write the JSON here")
    chaos.set_defaults(handler=chaos_cmd)


async def chaos_cmd(args: argparse.Namespace) -> int:
    if not (SUITE / "test_chaos.py").is_file():
        print(
            f"botctl: error: the chaos suite is not here ({SUITE}); it needs a source "
            "checkout installed with the dev extra",
            file=sys.stderr,
        )
        return 2
    for name in ("runs", "lanes", "full_check_every", "rolling_restart_turns"):
        if (value := getattr(args, name)) is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            print(f"botctl: error: {flag} must be at least 1", file=sys.stderr)
            return 2
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        report = args.report or Path(tmp) / "chaos.json"
        env = {
            **os.environ,
            "CHAOS_SEED": str(seed),
            "CHAOS_RUNS": str(args.runs),
            "CHAOS_OUTAGE_SECONDS": f"{args.outage_seconds:g}",
            "CHAOS_REPORT": str(report),
            "CHAOS_LANES": str(args.lanes),
            "CHAOS_FULL_CHECK_EVERY": str(args.full_check_every),
        }
        if args.weights:
            env["CHAOS_WEIGHTS"] = args.weights
        if args.log_dir is not None:
            env["CHAOS_LOG_DIR"] = str(args.log_dir.resolve())
        if args.minutes is not None:
            env["CHAOS_MINUTES"] = f"{args.minutes:g}"
        target = SUITE
        if args.rolling_restart_turns is not None:
            env["CHAOS_ROLLING_TURNS"] = str(args.rolling_restart_turns)
            target = SUITE / ROLLING_SCENARIO
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pytest", str(target), "-q", "-s", "-p", "no:cacheprovider",
            cwd=ROOT, env=env, process_group=0,
        )  # fmt: skip
        code = await _wait_passing_signals(proc)
        if not report.is_file():
            print(f"botctl: error: the chaos suite ended ({code}) without a report; see above")
            return 1
        print(summary(json.loads(report.read_text())))
    return 0 if code == 0 else 1


async def _wait_passing_signals(proc: asyncio.subprocess.Process) -> int:
    """Wait for the suite (in a process group of its own, so a Ctrl-C at the terminal reaches
    this process only); SIGINT and SIGTERM are passed on to it (it finishes the runs under
    way and writes the report; a second one interrupts it) instead of ending this process
    and leaving the suite behind."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, proc.send_signal, sig)
    try:
        return await proc.wait()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)


def summary(report: dict[str, Any]) -> str:
    """The report as a reader wants it: the totals first, then each violation."""
    faults = ", ".join(f"{k}: {n}" for k, n in sorted(report["faults"].items()))
    rolling = report.get("pauses", {}).get("during_rolling_restart", {})
    lines = [
        f"chaos: seed {report['seed']}, {report['runs']} runs (of {report['runs_asked']} asked)"
        f" in {report['seconds']:.0f} s, {report.get('lanes', 1)} at once",
        f"faults injected: {report['faults_injected']} ({faults})",
        f"workload: {report['messages']} messages, {report['payments']} payments, "
        f"{report['duplicates']} duplicate deliveries",
        f"full checks (botctl verify, whole log): {report.get('full_checks', 0)}",
        f"longest pause of a streamed answer during a rolling restart: "
        f"{rolling.get('max_s', 0)} s, beyond the restart itself "
        f"{rolling.get('max_beyond_restart_s', 0)} s ({rolling.get('turns', 0)} turns)",
        *(
            [
                f"  of those with no other fault meanwhile: {alone['max_s']} s, beyond the "
                f"restart {alone['max_beyond_restart_s']} s ({alone['turns']} turns)"
            ]
            if (alone := report.get("pauses", {}).get("during_rolling_restart_alone"))
            else []
        ),
        f"violations: {len(report['violations'])}",
    ]
    lines += [f"  {v}" for v in report["violations"]]
    return "\n".join(lines)

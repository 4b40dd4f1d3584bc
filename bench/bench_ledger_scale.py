"""Ledger fold at scale: time and RSS of folding N entries, with and without the
operation-id retention window, and of a start from snapshots (one window re-read).

Each measurement runs in its own child process (clean RSS). Entries are realistic encoded
``ledger.usage_debited`` records (full records, ~600 bytes, cost lines included) generated on
the fly from templates, for 10,000 users, spread evenly over 365 days; they are decoded with
the slim fold records as replay does.

Modes:

* ``all-ids``: every operation id kept forever (the behaviour before the retention window;
  emulated by setting the window to 1,000 years);
* ``window``: the fold as it is now (ids kept for 30 days, two generations);
* ``snapshot``: a start from snapshots: user states decoded from snapshot records, then only
  the last ``RESTORE_WINDOW`` of the ledger re-read for its operation ids.

Usage: .venv/bin/python bench/bench_ledger_scale.py [--entries 1000000 2000000 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

USERS = 10_000
SPAN = timedelta(days=365)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _templates() -> list[bytes]:
    from actors.billing import commands
    from actors.billing.ledger import BillingState, decide
    from actors.thread.models import SONNET
    from events.catalog import BILLING_LEDGER
    from events.codec import codec_for
    from events.usage import Usage

    codec = codec_for(BILLING_LEDGER)
    out = []
    for i in range(8):
        cmd = commands.usage_charge(
            1,
            model=SONNET,
            usage=Usage(input_tokens=1000 + i, output_tokens=300 + i),
            occurred_at=T0,
        )
        [entry] = decide(BillingState(), cmd, T0)
        raw = json.loads(codec.encode(entry)[1])
        raw.update(
            key="%(key)s",
            user_id="%(uid)s",
            operation_id="usage:%(op)s",
            occurred_at="%(at)s",
            balance_after="%(bal)s",
        )
        text = json.dumps(raw).replace('"%(uid)s"', "%(uid)s")
        out.append(text.encode())
    return out


def entries(n: int, start: int = 0):  # type: ignore[no-untyped-def]
    templates = _templates()
    step = SPAN / n
    for i in range(start, n):
        uid = 1 + i % USERS
        at = (T0 + step * i).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        yield templates[i % 8] % {
            b"key": str(uid).encode(),
            b"uid": str(uid).encode(),
            b"op": b"%032x" % i,
            b"at": at.encode(),
            b"bal": b"-1",
        }


CHUNK = 50_000


def chunks(n: int, start: int = 0):  # type: ignore[no-untyped-def]
    """The encoded entries in lists of CHUNK (generation is not timed)."""
    out: list[bytes] = []
    for value in entries(n, start):
        out.append(value)
        if len(out) == CHUNK:
            yield out
            out = []
    if out:
        yield out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_fold(n: int, mode: str) -> dict[str, float]:
    import actors.billing.ledger as ledger
    from actors.billing.fold_records import decode_slim

    if mode == "all-ids":
        ledger.OPERATION_RETENTION = timedelta(days=365_000)  # type: ignore[misc]
    states: dict[str, ledger.BillingState] = {}
    base = rss_mb()
    seconds = 0.0
    for chunk in chunks(n):
        t0 = time.perf_counter()
        for value in chunk:
            entry = decode_slim(value)
            assert entry is not None
            state = states.get(entry.key)
            if state is None:
                state = states[entry.key] = ledger.BillingState()
            ledger.evolve(state, entry)
        seconds += time.perf_counter() - t0
    del chunk
    ids = sum(len(s.operations) + len(s.previous_operations) for s in states.values())
    return {"seconds": seconds, "rss_mb": rss_mb(), "base_mb": base, "ids": ids}


def run_snapshot(n: int) -> dict[str, float]:
    """States from snapshot records, then the last window's entries re-read for ids."""
    import msgspec

    from actors.billing import ledger
    from actors.billing.fold_records import decode_slim
    from actors.billing.snapshots import from_snapshot, to_snapshot
    from events.billing import StateSnapshot
    from infra.billing.snapshots import RESTORE_WINDOW

    # the snapshot records as the topic holds them (encoded), built outside the timing
    state = ledger.BillingState(balance=Decimal("12.5"), entries=n // USERS)
    state.generation_started = T0 + SPAN - timedelta(days=10)
    state.horizon = T0 + SPAN - timedelta(days=40)
    encoded = [msgspec.json.encode(to_snapshot(state)) for _ in range(USERS)]
    first = int(n * (1 - RESTORE_WINDOW / SPAN))
    base = rss_mb()
    t0 = time.perf_counter()
    decoder = msgspec.json.Decoder(StateSnapshot)
    states = {str(1 + i): from_snapshot(decoder.decode(raw)) for i, raw in enumerate(encoded)}
    seconds = time.perf_counter() - t0
    reread = 0
    for chunk in chunks(n, start=first):
        t0 = time.perf_counter()
        for value in chunk:
            entry = decode_slim(value)
            assert entry is not None
            ledger.restore_operation(states[entry.key], entry)
        reread += len(chunk)
        seconds += time.perf_counter() - t0
    del chunk
    ids = sum(len(s.operations) + len(s.previous_operations) for s in states.values())
    return {"seconds": seconds, "rss_mb": rss_mb(), "base_mb": base, "ids": ids, "reread": reread}


def child(n: int, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, nargs="+", default=[1_000_000, 2_000_000])
    parser.add_argument("--modes", nargs="+", default=["all-ids", "window", "snapshot"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, n = args.child[0], int(args.child[1])
        result = run_snapshot(n) if mode == "snapshot" else run_fold(n, mode)
        print(json.dumps(result))
        return
    print(f"nproc={os.cpu_count()} users={USERS} span={SPAN.days} days")
    for n in args.entries:
        for mode in args.modes:
            r = child(n, mode)
            extra = f", re-read {int(r['reread']):,}" if "reread" in r else ""
            read = r.get("reread", n)
            print(
                f"{n:>11,} entries {mode:>8}: {r['seconds']:7.1f} s "
                f"({read / r['seconds']:,.0f} entries/s), "
                f"RSS {r['rss_mb']:,.0f} MB (start {r['base_mb']:,.0f}), "
                f"ids in memory {int(r['ids']):,}{extra}",
                flush=True,
            )


if __name__ == "__main__":
    main()

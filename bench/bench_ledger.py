"""Billing ledger benchmark: apply path (live) and fold (replay), pure and on the broker.

1. pure apply: decode command + decide + evolve + encode entry, in memory, one core;
2. pure fold: decode entry + evolve, in memory, one core (the Python part of a replay),
   with the full records and with the slim fold records replay uses;
3. live on the broker: N commands pre-produced, then one BillingWorker (group join, fold of
   an empty ledger, batches of ``--batch`` commands: decide, append, await acks, commit);
   ops/s from the first command processed to the last committed. Run twice: with the
   broker profile detected (Tansu -> single-record batches, what production on the
   embedded broker does) and with batching allowed (what Apache Kafka allows; on Tansu
   only valid because this run's ledger is never folded back);
4. replay on the broker: ``replay_ledger`` of run 3a's ledger (fetch + decode + fold).

Workload: 1,000 users; 80% model-usage charges (Sonnet/Haiku with cache reads), 10% tool
charges, 5% admin top-ups, 3% payments, 2% refunds of earlier payments.

Usage: .venv/bin/python bench/bench_ledger.py [--ops 30000] [--pure-ops 200000]
Uses KAFKA_BOOTSTRAP_SERVERS when set, else starts an embedded stack.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from actors.billing import commands
from actors.billing.fold_records import decode_slim
from actors.billing.ledger import BillingState, decide, evolve
from actors.billing.payments import InvoicePayload
from actors.thread.models import HAIKU, SONNET
from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, BillingCommand
from events.codec import codec_for
from events.envelope import utc_now
from events.usage import ToolQuantities, Usage
from infra.billing.replay import replay_ledger
from infra.billing.worker import BillingWorker
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.kafka.topic_admin import ensure_topics
from infra.stack.embedded import EmbeddedStack

ADMINS = frozenset({1})

USERS = 1000


def workload(n: int, seed: int = 7) -> list[BillingCommand]:
    rnd = random.Random(seed)
    out: list[BillingCommand] = []
    paid: list[tuple[int, str]] = []
    for uid in range(1, USERS + 1):
        out.append(commands.admin_top_up(uid, Decimal(50), 1))
    while len(out) < n:
        uid = rnd.randint(1, USERS)
        r = rnd.random()
        if r < 0.80:
            usage = Usage(
                input_tokens=rnd.randint(100, 20_000),
                output_tokens=rnd.randint(10, 2_000),
                cache_read_input_tokens=rnd.randint(0, 50_000),
            )
            out.append(commands.usage_charge(uid, model=rnd.choice((SONNET, HAIKU)), usage=usage))
        elif r < 0.90:
            out.append(
                commands.usage_charge(
                    uid,
                    tool_name="execute_python",
                    source="tool_call",
                    tool_quantities=ToolQuantities(
                        sandbox_seconds=Decimal(rnd.randint(1, 300)), web_searches=1
                    ),
                )
            )
        elif r < 0.95:
            out.append(commands.admin_top_up(uid, Decimal(rnd.randint(1, 500)) / 100, 1))
        elif r < 0.98 or not paid:
            charge = f"stx{uuid.uuid4().hex[:16]}"
            payload = InvoicePayload(uid, "a" * 32, 100, Decimal(0)).encode()
            out.append(
                commands.payment_credit(
                    uid, charge, 100, invoice_payload=payload, owner_margin=Decimal(0)
                )
            )
            paid.append((uid, charge))
        else:
            puid, charge = paid.pop(rnd.randrange(len(paid)))
            out.append(commands.refund_debit(puid, charge))
    return out[:n]


def best_of(label: str, fn, n: int, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - t0))
    rates.sort()
    print(f"{label}: best {rates[-1]:,.0f}/s, median {rates[len(rates) // 2]:,.0f}/s")
    return rates[-1]


def pure(n: int) -> tuple[float, float]:
    cmds = workload(n)
    cmd_codec = codec_for(BILLING_COMMANDS)
    led_codec = codec_for(BILLING_LEDGER)
    values = [cmd_codec.encode(c)[1] for c in cmds]
    entries: list[bytes] = []

    def apply() -> None:
        states: dict[str, BillingState] = {}
        now = utc_now()
        entries.clear()
        for value in values:
            cmd = cmd_codec.decode(value)
            state = states.get(cmd.key)
            if state is None:
                state = states[cmd.key] = BillingState()
            for entry in decide(state, cmd, now, privileged=ADMINS):
                evolve(state, entry)
                entries.append(led_codec.encode(entry)[1])

    apply_rate = best_of("pure apply (decode+decide+evolve+encode)", apply, n)
    ledger = list(entries)

    def fold() -> None:
        states: dict[str, BillingState] = {}
        for value in ledger:
            entry = led_codec.decode(value)
            state = states.get(entry.key)
            if state is None:
                state = states[entry.key] = BillingState()
            evolve(state, entry)

    best_of("pure fold, full records (decode+evolve)", fold, len(ledger))

    def fold_slim() -> None:
        states: dict[str, BillingState] = {}
        for value in ledger:
            entry = decode_slim(value)
            assert entry is not None
            state = states.get(entry.key)
            if state is None:
                state = states[entry.key] = BillingState()
            evolve(state, entry)

    fold_rate = best_of(
        "pure fold, slim records as replay does (decode+evolve)", fold_slim, len(ledger)
    )
    return apply_rate, fold_rate


async def produce(
    bootstrap: str,
    profile: BrokerProfile,
    prefix: str,
    cmds: list[BillingCommand],
    *,
    batched: bool = True,
) -> None:
    options = {"linger_ms": 20} if batched else {}
    producer = make_producer(
        bootstrap,
        replace(profile, tansu_workarounds=profile.tansu_workarounds and not batched),
        **options,
    )
    # Commands go in multi-record batches for speed; the worker reads them with a consumer
    # group (positions, not end offsets), which multi-record batches do not disturb.
    await producer.start()
    codec = codec_for(BILLING_COMMANDS)
    try:
        futures = []
        for cmd in cmds:
            key, value, headers = codec.encode(cmd)
            futures.append(
                await producer.send(prefix + BILLING_COMMANDS.name, value, key=key, headers=headers)
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def live(
    bootstrap: str, profile: BrokerProfile, cmds: list[BillingCommand], batch: int, label: str
) -> tuple[float, str]:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    report = await ensure_topics(
        bootstrap,
        [BILLING_COMMANDS, BILLING_LEDGER, BILLING_COMMANDS.dead_letter()],
        name_prefix=prefix,
    )
    assert report.ok, report.mismatches
    await produce(bootstrap, profile, prefix, cmds)
    worker = BillingWorker(
        bootstrap, profile, topic_prefix=prefix, batch_max=batch, privileged_user_ids=ADMINS
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(worker.ready.wait(), 120)
    first = None
    while worker.stats.commands < len(cmds):
        if first is None and worker.stats.commands:
            first = (time.perf_counter(), worker.stats.commands)
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    end = time.perf_counter()
    stop.set()
    await task
    assert first is not None
    rate = (len(cmds) - first[1]) / (end - first[0])
    print(
        f"live {label}: {rate:,.0f} ops/s ({worker.stats.entries} entries, "
        f"{worker.stats.batches} batches, {worker.stats.rejected} rejected)"
    )
    return rate, prefix


async def replay(bootstrap: str, profile: BrokerProfile, prefix: str) -> float:
    t0 = time.perf_counter()
    states = await replay_ledger(bootstrap, profile, topic_prefix=prefix)
    elapsed = time.perf_counter() - t0
    n = sum(s.entries for s in states.values())
    print(f"replay from the broker: {n:,} entries in {elapsed:.2f} s = {n / elapsed:,.0f}/s")
    return n / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=30_000)
    parser.add_argument("--pure-ops", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    print(f"nproc={os.cpu_count()}")
    pure(args.pure_ops)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    stack = None
    if not bootstrap:
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="bench-ledger-")))
        state = await stack.start()
        bootstrap = state.kafka_bootstrap
    try:
        profile = await probe_broker(bootstrap)
        cmds = workload(args.ops, seed=11)
        _, prefix = await live(bootstrap, profile, cmds, args.batch, f"(profile: {profile})")
        await replay(bootstrap, profile, prefix)
        if profile.tansu_workarounds:
            batching = replace(profile, tansu_workarounds=False)
            await live(
                bootstrap, batching, workload(args.ops, seed=12), args.batch, "(batched produce)"
            )
    finally:
        if stack is not None:
            stack.reset()


if __name__ == "__main__":
    asyncio.run(main())

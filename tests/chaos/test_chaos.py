"""The randomized fault suite: seeded runs of a workload with a fault in it, each verified;
then bad records on every consumed topic, with every service killed and restarted on them.

The CI profile (``./dev test``) makes ``CHAOS_RUNS`` runs (default 1) with short outages;
``botctl chaos --runs N`` runs this module with N runs and 30-second outages, and prints
the report (runs, faults injected, violations).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import pytest
from chaos_plan import RunPlan, UserPlan
from chaos_poison import Poison, bad_values, consumed_topics, dead_lettered, key_for
from chaos_runner import Chaos, ChaosReport
from chaos_settings import API_KEY, BOT_TOKEN, MINUTES, RUNS, SEED, report_path

from events.catalog import all_topics
from infra.cli.stack_cmds import SERVICES
from infra.kafka.clients import make_producer
from infra.kafka.topic_reader import read_topic_records

pytestmark = pytest.mark.slow

POISONED_USER = 7_090_001


async def test_random_faults_lose_nothing_and_charge_nothing_twice(chaos: Chaos) -> None:
    """Under kill -9 of any service, duplicate deliveries, a stopped broker, PostgreSQL or
    Redis, and rolling restarts, every message is answered or failed once, every payment
    credited once, every model call debited once, and the read side rebuilds identically."""
    path = report_path()
    with stopped_by_signals() as stop:
        report = await chaos.run_all(
            RUNS,
            SEED,
            minutes=MINUTES,
            on_progress=(lambda r: path.write_text(r.to_json())) if path is not None else None,
            stop=stop,
        )
    print(report.summary())
    assert report.violations == [], f"CHAOS_SEED={SEED} repeats it\n" + "\n".join(report.violations)
    if stop.is_set():
        pytest.exit(f"chaos: stopped by a signal after {report.runs} runs", returncode=130)


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[asyncio.Event]:
    """An event SIGINT or SIGTERM sets (the lanes then finish their runs, the last full check
    is made and the report written); a second signal interrupts as before."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def first(sig: signal.Signals) -> None:
        print(f"chaos: {sig.name}: finishing the runs under way (again to interrupt)", flush=True)
        stop.set()
        for s, handler in before.items():
            loop.remove_signal_handler(s)
            signal.signal(s, handler)

    for sig in before:
        loop.add_signal_handler(sig, first, sig)
    try:
        yield stop
    finally:
        for sig, handler in before.items():
            if loop.remove_signal_handler(sig):
                signal.signal(sig, handler)


async def _poison_every_topic(chaos: Chaos, user_id: int) -> list[Poison]:
    producer = make_producer(chaos.endpoints.kafka_bootstrap, chaos.profile)
    await producer.start()
    poisons = []
    try:
        for spec in consumed_topics():
            key = key_for(spec, user_id)
            for kind, value in bad_values(spec, key).items():
                sent = await producer.send_and_wait(spec.name, value, key=key.encode())
                poisons.append(Poison(spec.name, sent.partition, sent.offset, kind))
    finally:
        await producer.stop()
    return poisons


async def test_bad_records_on_every_topic_are_dead_lettered_and_processing_goes_on(
    chaos: Chaos,
) -> None:
    """A record that is not JSON, of an unknown type, with fields of the wrong type, from a
    newer version, or oversized (900 kB), on every consumed topic (but the ledger and its
    snapshots: see chaos_poison.FAIL_SAFE_TOPICS): every service, killed and
    restarted on top of them, parks them in the topic's .dlq and goes on, so a user whose
    records share those partitions is answered, credited and refunded as usual."""
    poisons = await _poison_every_topic(chaos, POISONED_USER)
    chaos.expected_dead_letters |= {(p.topic, p.partition, p.offset) for p in poisons}
    pids = {s: chaos.bot.signal_service(s, signal.SIGKILL) for s in SERVICES}
    await asyncio.gather(
        *(chaos.bot.wait_replaced(s, pid) for s, pid in pids.items() if pid is not None)
    )
    plan = RunPlan(9000, (UserPlan(POISONED_USER, messages=2, pay_stars=5, refund=True),))
    report = ChaosReport(SEED)
    record = await chaos.run_one(plan, report)
    await chaos.full_check(report)
    assert report.violations == []
    assert len(record.messages) == 2
    assert len(record.payments) == 1
    bootstrap = chaos.endpoints.kafka_bootstrap
    missing = [p for p in poisons if not await dead_lettered(bootstrap, chaos.profile, p)]
    assert missing == [], "\n".join(f"{p.kind} on {p.topic}: not dead-lettered" for p in missing)


async def test_secrets_never_reach_logs_records_or_chats(chaos: Chaos) -> None:
    """After the runs (crashes, outages and dead letters included): the bot token (whole or
    its secret half) and the Claude API key appear in no service log, no record of any topic
    (key, value or header, dead letters included) and no message a user was sent."""
    token_secret = BOT_TOKEN.split(":", 1)[1]
    needles = [BOT_TOKEN.encode(), token_secret.encode(), API_KEY.encode()]
    found = [f"log: {n!r}" for n in needles if n in chaos.bot.log_path.read_bytes()]
    for spec in all_topics():  # the .dlq twins included
        async for record in read_topic_records(
            chaos.endpoints.kafka_bootstrap, chaos.profile, spec.name
        ):
            raw = b"".join(
                [record.key or b"", record.value or b""]
                + [k.encode() + v for k, v in record.headers or ()]
            )
            found += [f"{spec.name}@{record.offset}: {n!r}" for n in needles if n in raw]
    for chat in chaos.telegram.bot(chaos.token).chats.values():
        texts = " ".join(m.text or "" for m in chat.messages if m.from_bot)
        found += [f"chat {chat.id}: {n!r}" for n in needles if n.decode() in texts]
    assert found == []

"""The randomized fault suite: seeded runs of a workload with a fault in it, each verified;
then bad records on every consumed topic, with every service killed and restarted on them.

The CI profile (``./dev test``) makes ``CHAOS_RUNS`` runs (default 2) with short outages;
``botctl chaos --runs N`` runs this module with N runs and 30-second outages, and prints
the report (runs, faults injected, violations).
"""

from __future__ import annotations

import asyncio
import signal

import pytest
from chaos_plan import RunPlan, UserPlan
from chaos_poison import Poison, bad_values, consumed_topics, dead_lettered, key_for
from chaos_runner import Chaos, ChaosReport
from conftest import RUNS, SEED, report_path

from infra.cli.stack_cmds import SERVICES
from infra.kafka.clients import make_producer

pytestmark = pytest.mark.slow

POISONED_USER = 7_090_001


async def test_random_faults_lose_nothing_and_charge_nothing_twice(chaos: Chaos) -> None:
    """Under kill -9 of any service, duplicate deliveries, a stopped broker, PostgreSQL or
    Redis, and rolling restarts, every message is answered or failed once, every payment
    credited once, every model call debited once, and the read side rebuilds identically."""
    report = await chaos.run_all(RUNS, SEED)
    print(report.summary())
    if (path := report_path()) is not None:
        path.write_text(report.to_json())
    assert report.violations == [], f"CHAOS_SEED={SEED} repeats it\n" + "\n".join(report.violations)


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
    newer version, or oversized (900 kB), on every consumed topic: every service, killed and
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
    assert report.violations == []
    assert len(record.messages) == 2
    assert len(record.payments) == 1
    bootstrap = chaos.endpoints.kafka_bootstrap
    missing = [p for p in poisons if not await dead_lettered(bootstrap, chaos.profile, p)]
    assert missing == [], "\n".join(f"{p.kind} on {p.topic}: not dead-lettered" for p in missing)

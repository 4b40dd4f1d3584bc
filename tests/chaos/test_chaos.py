"""The randomized fault suite: seeded runs of a workload with a fault in it, each verified.

The CI profile (``./dev test``) makes ``CHAOS_RUNS`` runs (default 2) with short outages;
``botctl chaos --runs N`` runs this same test with N runs and 30-second outages, and prints
the report (runs, faults injected, violations).
"""

from __future__ import annotations

import pytest
from chaos_bot import BotUnderTest
from chaos_plan import Profile
from chaos_runner import Chaos
from conftest import BOT_TOKEN, OUTAGE_SECONDS, RUNS, SEED, report_path

from infra.emulators.claude import ClaudeEmulator
from infra.emulators.telegram import TelegramEmulator
from infra.endpoints import Endpoints
from infra.kafka.compat import probe_broker
from infra.stack.embedded import EmbeddedStack

pytestmark = pytest.mark.slow


async def test_random_faults_lose_nothing_and_charge_nothing_twice(
    chaos_stack: tuple[EmbeddedStack, Endpoints],
    chaos_bot: BotUnderTest,
    chaos_telegram: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
) -> None:
    """Under kill -9 of any service, duplicate deliveries, a stopped broker, PostgreSQL or
    Redis, and rolling restarts, every message is answered or failed once, every payment
    credited once, every model call debited once, and the read side rebuilds identically."""
    _, endpoints = chaos_stack
    await chaos_bot.wait_services()
    chaos = Chaos(
        chaos_bot,
        endpoints,
        await probe_broker(endpoints.kafka_bootstrap),
        chaos_telegram,
        claude_emulator_server,
        BOT_TOKEN,
        Profile(outage_seconds=OUTAGE_SECONDS),
    )
    report = await chaos.run_all(RUNS, SEED)
    print(report.summary())
    if (path := report_path()) is not None:
        path.write_text(report.to_json())
    assert report.violations == [], f"CHAOS_SEED={SEED} repeats it\n" + "\n".join(report.violations)

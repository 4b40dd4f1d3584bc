"""The analysts' HTML report (``botctl report``) built from projected records and opened in
headless Chromium: its charts render and it reads well at a young bot's small amounts.

Needs the system's Chromium (Debian: ``apt-get install chromium``; ``.ci/run`` installs it
when it runs as root with apt). Without one, the test is skipped and says so.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from projection_helpers import create_topics, produce, projecting

from actors.billing.policy import format_usd
from devkit.chromium import find_chromium, problems, render
from devkit.scenario import Scenario
from events import billing
from events.envelope import Envelope
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.reports.report import ReportResult, report
from infra.services.supervisor import botctl_argv

ROOT = Path(__file__).resolve().parents[3]

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (apt-get install chromium; .ci/run installs it as "
    "root): the report's rendering in a browser is not checked here",
)
RECORDS = 400
"""A young bot's log: a few users, costs in cents and fractions of a cent."""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def young_bot(
    stack: Endpoints, broker_profile: BrokerProfile, pg_schema: str
) -> AsyncIterator[list[tuple[Any, Envelope]]]:
    """A small scenario produced and projected into the module's schema."""
    prefix = f"c{uuid.uuid4().hex[:8]}."
    await create_topics(stack, prefix)
    items: list[tuple[Any, Envelope]] = list(Scenario(16, users=6).records(RECORDS))
    await produce(stack, broker_profile, prefix, items)
    async with projecting(
        stack, broker_profile, prefix, pg_schema, items, use_redis=False, cache_prefix=None
    ):
        yield items


async def _report(stack: Endpoints, schema: str, out: Path) -> ReportResult:
    return await report(
        stack,
        since=datetime(2020, 1, 1, tzinfo=UTC),
        until=datetime(2100, 1, 1, 13, 5, 7, 123456, tzinfo=UTC),
        out_dir=out,
        schema=schema,
    )


@needs_chromium
async def test_the_report_renders_its_charts_in_chromium_and_reads_well(
    stack: Endpoints, pg_schema: str, young_bot: list[tuple[Any, Envelope]], tmp_path: Path
) -> None:
    """Every chart of the report is laid out with bars of some height and distinct axis
    ticks; ids, token counts, totals and the period print as an analyst reads them."""
    assert CHROMIUM is not None
    result = await _report(stack, pg_schema, tmp_path)
    page = await render(result.html, CHROMIUM)

    assert page.sections == {
        "Cost and revenue by day": 1,
        "Cost and revenue by user": 1,
        "Cost by model": 3,  # tokens by kind, cache-read share, cost
        "Tokens by day": 2,  # tokens by kind, cache-read share
        "Cost by tool": page.sections["Cost by tool"],  # a chart once a tool was charged
        "Top 20 threads by cost": 1,
    }, page.sections
    users = sorted({r.user_id for _, r in young_bot if isinstance(r, billing.UsageDebited)})
    assert problems(page, user_ids=users) == []
    assert page.subtitle.startswith("2020-01-01 00:00 to 2100-01-01 13:05 UTC"), page.subtitle
    assert any(str(u) in page.cells for u in users)


async def test_botctl_report_prints_its_totals_as_money(
    stack: Endpoints, pg_schema: str, young_bot: list[tuple[Any, Envelope]], tmp_path: Path
) -> None:
    """`botctl report` prints cost, revenue and margin as money (``$0.0117``, never
    ``$0.0117600000``) and names the files it wrote, the tokens by day among them."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
    }
    argv = botctl_argv("report", "--schema", pg_schema, "--out", str(tmp_path))
    argv += ["--since", "2020-01-01", "--until", "2100-01-01"]
    done = await asyncio.to_thread(
        subprocess.run, argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    totals = done.stdout.splitlines()[0]
    amounts = re.findall(r"\$(-?[\d,]+\.\d+)", totals)
    assert len(amounts) == 3, totals
    assert all(len(a.partition(".")[2]) <= 4 for a in amounts), totals
    cost = sum((-r.amount for _, r in young_bot if isinstance(r, billing.UsageDebited)), Decimal(0))
    assert amounts[0] == format_usd(cost), (totals, cost)
    assert f"wrote {tmp_path / 'tokens_by_day.csv'}" in done.stdout

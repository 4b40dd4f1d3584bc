"""Seeded randomized runs: a workload, a fault injected into it, a settle, the verifier.

``run_chaos`` is the whole loop, shared by the CI profile (``tests/chaos/test_chaos.py``)
and the long one (``botctl chaos --runs N``, which runs that test with more runs).
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError
from chaos_bot import BotUnderTest
from chaos_plan import Fault, Profile, RunPlan, plan_run
from chaos_verifier import check, settled
from chaos_workload import RunRecord, SentMessage, Workload

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from infra.cli.stack_cmds import SERVICES
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile

FIRST_USER = 7_100_000
WARM_UP_USER = 7_080_001
USERS_PER_RUN = 10
KILLS_PER_MINUTE = 3
"""At most this many kills of one service a minute: the supervisor (rightly) stops the bot
at 5 exits of a service within a minute, and a crash loop is not what these runs test."""


@dataclass
class ChaosReport:
    """Runs done, faults injected (by kind and target), violations (each with its run)."""

    seed: int
    runs: int = 0
    runs_asked: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    messages: int = 0
    payments: int = 0
    duplicates: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        faults = ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items()))
        return (
            f"chaos seed {self.seed}: {self.runs} runs, {sum(self.faults.values())} faults "
            f"({faults}), {self.messages} messages, {self.payments} payments, "
            f"{self.duplicates} duplicate deliveries, {len(self.violations)} violations, "
            f"{self.seconds:.0f} s"
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "seed": self.seed,
            "runs": self.runs,
            "runs_asked": self.runs_asked,
            "faults_injected": sum(self.faults.values()),
            "faults": dict(self.faults),
            "messages": self.messages,
            "payments": self.payments,
            "duplicates": self.duplicates,
            "violations": self.violations,
            "seconds": round(self.seconds, 1),
        }
        return json.dumps(data, indent=2)


@dataclass
class Chaos:
    """One bot under test, its emulators and the settings of the runs."""

    bot: BotUnderTest
    endpoints: Endpoints
    profile: BrokerProfile
    telegram: TelegramEmulator
    claude: ClaudeEmulator
    token: str
    run_profile: Profile
    settle_timeout: float = 180.0
    log: Callable[[str], None] = print
    expected_dead_letters: set[tuple[str, int, int]] = field(default_factory=set)

    async def warm_up(self, timeout: float = 600.0) -> None:
        """One message answered end to end and the read side caught up: every service has
        joined its group and read its views (starting is not what the runs measure)."""
        user = WARM_UP_USER
        self.telegram.add_private_chat(user, token=self.token)
        update = self.telegram.send_text(user, "warm up wq", token=self.token)
        record = RunRecord(RunPlan(-1, ()))
        record.messages.append(SentMessage(user, update["message"]["message_id"], "wq"))
        args = (self.endpoints, self.profile, record, self.telegram, self.token)
        async with asyncio.timeout(timeout):
            while not await self._settled(*args):
                if not self.bot.running:
                    raise RuntimeError(f"botctl run exited:\n{self.bot.log_tail()}")
                await asyncio.sleep(1.0)

    async def run_all(
        self,
        runs: int,
        seed: int,
        *,
        minutes: float | None = None,
        on_progress: Callable[[ChaosReport], None] | None = None,
    ) -> ChaosReport:
        """``runs`` runs from ``seed`` (or fewer: no run starts after ``minutes``);
        ``on_progress`` gets the report after every run."""
        rng = random.Random(seed)
        report = ChaosReport(seed, runs_asked=runs)
        started = time.monotonic()
        for index in range(runs):
            if minutes is not None and time.monotonic() - started > minutes * 60:
                break
            plan = plan_run(rng, index, self.run_profile, FIRST_USER + index * USERS_PER_RUN)
            record = await self.run_one(plan, report)
            report.runs += 1
            report.messages += len(record.messages)
            report.payments += len(record.payments)
            report.duplicates += record.duplicates
            report.seconds = time.monotonic() - started
            if on_progress is not None:
                on_progress(report)
        report.seconds = time.monotonic() - started
        return report

    async def run_one(self, plan: RunPlan, report: ChaosReport) -> RunRecord:
        record = RunRecord(plan)
        duplicate = any(f.kind == "duplicate" for f in plan.faults)
        workload = Workload(self.telegram, self.claude, duplicate=duplicate, token=self.token)
        injected = [asyncio.create_task(self.inject(f)) for f in plan.faults]
        await workload.run(plan, record)
        done = await asyncio.gather(*injected, return_exceptions=True)
        for fault, outcome in zip(plan.faults, done, strict=True):
            if isinstance(outcome, BaseException):
                report.violations.append(f"run {plan.index}: {fault.describe()}: {outcome!r}")
            else:
                report.faults[outcome] += 1
        found = await self.verify(record)
        report.violations += [f"run {plan.index} ({self.describe(plan)}): {v}" for v in found]
        self.log(f"chaos run {plan.index}: {self.describe(plan)}: {len(found)} violations")
        return record

    @staticmethod
    def describe(plan: RunPlan) -> str:
        return "; ".join(f.describe() for f in plan.faults)

    async def inject(self, fault: Fault) -> str:
        """Inject ``fault`` at its moment; answers its kind and target, for the report."""
        await asyncio.sleep(fault.at)
        if fault.kind == "kill9":
            target = self._kill_target(fault.target)
            pid = self.bot.signal_service(target, signal.SIGKILL)
            if pid is not None:
                await self.bot.wait_replaced(target, pid)
            return f"kill9 {target}"
        if fault.kind == "outage":
            await self.bot.outage(fault.target, fault.duration)
            return f"outage {fault.target}"
        if fault.kind == "rolling_restart":
            for service in SERVICES:
                pid = self.bot.signal_service(service, signal.SIGTERM)
                if pid is not None:
                    await self.bot.wait_replaced(service, pid, timeout=90.0)
            return "rolling_restart"
        return fault.kind

    def _kill_target(self, wanted: str) -> str:
        now = time.monotonic()
        recent = {s: [t for t in self.bot.kills.get(s, []) if now - t < 60.0] for s in SERVICES}
        target = wanted
        if len(recent[wanted]) >= KILLS_PER_MINUTE:
            target = min(SERVICES, key=lambda s: len(recent[s]))
        self.bot.kills[target] = [*recent[target], now]
        return target

    async def _settled(self, *args: Any) -> bool:
        """``settled``, False while the broker or PostgreSQL cannot answer yet (a stack
        still electing leaders after its start, a dependency just restarted)."""
        try:
            return await settled(*args)
        except (KafkaError, OSError, asyncpg.PostgresError, TimeoutError) as exc:
            self.log(f"chaos: not settled yet ({type(exc).__name__}: {exc})")
            return False

    async def verify(self, record: RunRecord) -> list[str]:
        """Wait until the run's effects have landed (or the settle timeout), then check."""
        found: list[str] = []
        if not self.bot.running:
            found.append(f"botctl run stopped:\n{self.bot.log_tail(20)}")
            self.bot.start()
            await self.bot.wait_services()
        args = (self.endpoints, self.profile, record, self.telegram, self.token)
        try:
            async with asyncio.timeout(self.settle_timeout):
                while not await self._settled(*args):  # noqa: ASYNC110 - polls the log and DB
                    await asyncio.sleep(1.0)
        except TimeoutError:
            found.append(f"not settled within {self.settle_timeout:g} s")
        verdict = await check(*args, frozenset(self.expected_dead_letters))
        return found + verdict.violations

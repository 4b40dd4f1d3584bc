"""Seeded randomized runs: a workload, a fault injected into it, a settle, the verifier.

``Chaos.run_all`` is the whole loop, shared by the CI profile (``tests/chaos/test_chaos.py``)
and the long one (``botctl chaos --runs N``, which runs that test with more runs).

What makes a run cheap:

* One embedded stack and one ``botctl run`` serve every run; a fault restarts only what it
  hits (a killed service, a stopped dependency, or every service for a rolling restart).
* Runs go in ``lanes`` at once (each its own users, each with its own fault at its own
  moment). Faults on one target are serialized (a lock per service and dependency; a
  rolling restart takes every service's), and no service is made to exit more often than
  ``EXITS_PER_MINUTE``: the supervisor (rightly) stops the bot at 5 exits of a service
  within a minute, and a crash loop is not what these runs test.
* The verifier reads the log incrementally (``chaos_log``) and checks each run over its own
  users' share of it as soon as that run settled; what needs a quiet bot (the projections
  caught up, ``botctl verify``'s rebuild = live, the dead letters, every balance and charge
  of the whole log) runs after every ``full_check_every`` runs and after the last one, with
  the lanes paused. A difference there stays until it is found, so a violation is never
  missed, only named by the runs since the previous full check.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg
from aiokafka.errors import KafkaError
from chaos_bot import DEPENDENCIES, RESTART_WAIT, BotUnderTest
from chaos_log import LogTails, isolated
from chaos_plan import Fault, Profile, RunPlan, plan_run
from chaos_report import ChaosReport
from chaos_verifier import (
    LogView,
    Verdict,
    Witness,
    broadcast_violations,
    check_all,
    check_run,
    model_asked,
    projections_caught_up,
    run_settled,
    turn_streams,
)
from chaos_workload import RunRecord, SentMessage, Workload

from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from infra.cli.stack_cmds import SERVICES
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile

FIRST_USER = 7_100_000
WARM_UP_USER = 7_080_001
USERS_PER_RUN = 10
EXITS_PER_MINUTE = 3
"""At most this many exits we cause (kill -9 or SIGTERM) of one service a minute."""
SETTLE_POLL = 0.25
"""How often a run's settle and the full check's lag are polled (the log is read
incrementally, so a poll costs little; a run ends up to this much after its effects)."""
CHECK_TIMEOUT = 900.0
"""The checks over the whole log (``botctl verify``'s replay included) give up after this."""
NOT_YET = (KafkaError, OSError, asyncpg.PostgresError, TimeoutError)
"""What the broker or PostgreSQL raise while they cannot answer yet."""

__all__ = ["Chaos", "ChaosReport"]


class RunGate:
    """Runs enter freely; a full check waits until none is in flight and holds new ones."""

    def __init__(self) -> None:
        self.active = 0
        self.open = asyncio.Event()
        self.open.set()
        self.changed = asyncio.Condition()
        self.exclusive_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        await self.open.wait()
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            async with self.changed:
                self.changed.notify_all()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold new runs and wait for those in flight (call it under ``exclusive_lock``)."""
        self.open.clear()
        try:
            async with self.changed:
                await self.changed.wait_for(lambda: self.active == 0)
            yield
        finally:
            self.open.set()


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
    lanes: int = 1
    full_check_every: int = 1
    log: Callable[[str], None] = print
    expected_dead_letters: set[tuple[str, int, int]] = field(default_factory=set)
    tails: LogTails | None = None
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    gate: RunGate = field(default_factory=RunGate)
    rolling_windows: list[list[float]] = field(default_factory=list)
    """[start, end] of every rolling restart (end = inf while it goes on)."""
    other_windows: list[list[float]] = field(default_factory=list)
    """The same of every kill -9 (to the replacement) and outage (to the restart)."""
    unchecked: list[int] = field(default_factory=list)
    """Runs finished since the last full check."""

    def __post_init__(self) -> None:
        if self.tails is None:
            self.tails = LogTails(self.endpoints.kafka_bootstrap, self.profile)
        for name in (*SERVICES, *DEPENDENCIES):
            self.locks.setdefault(name, asyncio.Lock())
        self.witness = Witness(self.bot.killed, model_asked(self.claude))

    async def warm_up(self, timeout: float = 600.0) -> None:
        """One message answered end to end and the read side caught up: every service has
        joined its group and read its views (starting is not what the runs measure)."""
        user = WARM_UP_USER
        self.telegram.add_private_chat(user, token=self.token)
        sent_at = self.telegram.world.clock()
        update = self.telegram.send_text(user, "warm up wq", token=self.token)
        record = RunRecord(RunPlan(-1, ()))
        record.messages.append(SentMessage(user, update["message"]["message_id"], "wq", sent_at))
        async with asyncio.timeout(timeout):
            while await self._run_settled(record) is None or not await self._caught_up():
                if not self.bot.running:
                    raise RuntimeError(f"botctl run exited:\n{self.bot.log_tail()}")
                await asyncio.sleep(1.0)

    async def run_all(
        self,
        runs: int,
        seed: int,
        *,
        minutes: float | None = None,
        on_progress: Callable[[ChaosReport], object] | None = None,
        stop: asyncio.Event | None = None,
    ) -> ChaosReport:
        """``runs`` runs from ``seed`` in ``lanes`` lanes (or fewer: no run starts after
        ``minutes``, nor once ``stop`` is set); ``on_progress`` gets the report after every
        run."""
        rng = random.Random(seed)
        report = ChaosReport(seed, runs_asked=runs, lanes=self.lanes)
        started = time.monotonic()
        indices = iter(range(runs))

        def may_start() -> bool:
            if stop is not None and stop.is_set():
                return False
            return minutes is None or time.monotonic() - started < minutes * 60

        async def lane() -> None:
            while may_start():
                index = next(indices, None)
                if index is None:
                    return
                plan = plan_run(rng, index, self.run_profile, FIRST_USER + index * USERS_PER_RUN)
                async with self.gate.run():
                    try:
                        record = await self.run_one(plan, report)
                    except Exception as exc:  # the harness failed: say so, go on with the next
                        report.violations.append(f"run {plan.index}: the run failed: {exc!r}")
                        record = RunRecord(plan)
                report.runs += 1
                report.messages += len(record.messages)
                report.payments += len(record.payments)
                report.duplicates += record.duplicates
                await self.full_check(report, at_least=self.full_check_every)
                report.seconds = time.monotonic() - started
                if on_progress is not None:
                    on_progress(report)

        await asyncio.gather(*(lane() for _ in range(self.lanes)))
        if self.unchecked:
            await self.full_check(report)
        report.seconds = time.monotonic() - started
        if on_progress is not None:
            on_progress(report)
        return report

    async def run_one(
        self, plan: RunPlan, report: ChaosReport, *, broadcast: bool = True, answer_words: int = 30
    ) -> RunRecord:
        """One run: its workload with its fault, then the checks over its users (answers of
        ``answer_words`` words; with an announcement to them and more if ``broadcast``)."""
        record = RunRecord(plan)
        began = time.monotonic()
        duplicate = any(f.kind == "duplicate" for f in plan.faults)
        workload = Workload(
            self.telegram,
            self.claude,
            duplicate=duplicate,
            token=self.token,
            broadcast=broadcast,
            answer_words=answer_words,
        )
        injected = [asyncio.create_task(self.inject(f)) for f in plan.faults]
        await workload.run(plan, record)
        done = await asyncio.gather(*injected, return_exceptions=True)
        found = [
            f"{fault.describe()}: {outcome!r}"
            for fault, outcome in zip(plan.faults, done, strict=True)
            if isinstance(outcome, BaseException)
        ]
        for outcome in done:
            if not isinstance(outcome, BaseException):
                report.faults[outcome] += 1
        found += await self.verify(record, report)
        report.violations += [f"run {plan.index} ({self.describe(plan)}): {v}" for v in found]
        self.unchecked.append(plan.index)
        took = time.monotonic() - began
        waited = f"; waited {workload.answer_timeout:g} s in vain for {', '.join(record.timed_out)}"
        self.log(
            f"chaos run {plan.index}: {self.describe(plan)}: {len(found)} violations ({took:.0f} s)"
            + (waited if record.timed_out else "")
        )
        for violation in found:  # at once: a long run's report comes only at its end
            self.log(f"  run {plan.index}: {violation[:400]}")
        return record

    @staticmethod
    def describe(plan: RunPlan) -> str:
        return "; ".join(f.describe() for f in plan.faults)

    # ------------------------------------------------------------------ faults

    async def inject(self, fault: Fault) -> str:
        """Inject ``fault`` at its moment; answers its kind and target, for the report."""
        await asyncio.sleep(fault.at)
        if fault.kind == "kill9":
            target = self._exit_target(fault.target)
            async with self.locks[target], self._window(self.other_windows):
                # counted when it happens, not before the wait for the lock: claims made
                # a minute apart could otherwise land together, and five exits of one
                # service within a minute stop the bot (run F: the broadcaster's)
                await self._claim_exit(target)
                at = time.monotonic()
                pid = self.bot.signal_service(target, signal.SIGKILL)
                if pid is not None:
                    self.bot.killed.setdefault(target, []).append(at)
                    await self.bot.wait_replaced(target, pid)
            return f"kill9 {target}"
        if fault.kind == "outage":
            async with self.locks[fault.target], self._window(self.other_windows):
                await self.bot.outage(fault.target, fault.duration)
            return f"outage {fault.target}"
        if fault.kind == "rolling_restart":
            await self.rolling_restart()
            return "rolling_restart"
        return fault.kind

    async def rolling_restart(self) -> None:
        """SIGTERM every service in turn, each once the previous one was replaced."""
        async with contextlib.AsyncExitStack() as held:
            for service in SERVICES:
                await held.enter_async_context(self.locks[service])
            async with self._window(self.rolling_windows):
                for service in SERVICES:
                    await self._claim_exit(service)
                    pid = self.bot.signal_service(service, signal.SIGTERM)
                    if pid is not None:
                        await self.bot.wait_replaced(service, pid, timeout=180.0)

    @staticmethod
    @contextlib.asynccontextmanager
    async def _window(windows: list[list[float]]) -> AsyncIterator[None]:
        """Note [start, end] of what runs inside in ``windows`` (end = inf meanwhile)."""
        window = [time.monotonic(), float("inf")]
        windows.append(window)
        try:
            yield
        finally:
            window[1] = time.monotonic()

    def _recent_exits(self, service: str) -> list[float]:
        now = time.monotonic()
        recent = [t for t in self.bot.kills.get(service, []) if now - t < 60.0]
        self.bot.kills[service] = recent
        return recent

    async def _claim_exit(self, service: str) -> None:
        """Wait until ``service`` may exit once more (see EXITS_PER_MINUTE), and count it."""
        while len(recent := self._recent_exits(service)) >= EXITS_PER_MINUTE:  # noqa: ASYNC110
            await asyncio.sleep(max(0.1, 60.0 - (time.monotonic() - recent[0])))
        self.bot.kills[service].append(time.monotonic())

    def _exit_target(self, wanted: str) -> str:
        """``wanted``, or the service with the fewest recent exits when it had its share."""
        if len(self._recent_exits(wanted)) >= EXITS_PER_MINUTE:
            return min(SERVICES, key=lambda s: len(self._recent_exits(s)))
        return wanted

    # ------------------------------------------------------------------ checks

    async def _view(self, users: list[int]) -> LogView | None:
        """The users' share of the log now; None while the broker cannot answer yet."""
        assert self.tails is not None
        try:
            return (await LogView.read(self.tails)).of_users(users)
        except NOT_YET as exc:
            self.log(f"chaos: log not readable yet ({type(exc).__name__}: {exc})")
            return None

    async def _run_settled(self, record: RunRecord) -> LogView | None:
        """The run's users' share of the log once the run's effects have landed, else None."""
        users = [u.user_id for u in record.plan.users] or [WARM_UP_USER]
        view = await self._view(users)
        if view is None or not run_settled(view, record, self.telegram, self.token, self.witness):
            return None
        if record.broadcasts and await self._broadcast_violations(record):
            return None
        return view

    async def _broadcast_violations(self, record: RunRecord) -> list[str]:
        """The run's announcements not yet settled (or wrong); a placeholder while the
        broker cannot answer yet."""
        assert self.tails is not None
        try:
            admin, deliveries = await self.tails.refresh_broadcasts()
        except NOT_YET as exc:
            return [f"broadcast log not readable yet ({type(exc).__name__}: {exc})"]
        return broadcast_violations(record, admin, deliveries, self.telegram, self.token)

    async def _final_broadcast_violations(self, record: RunRecord) -> list[str]:
        """The run's broadcast checks, read again while another lane's broker outage keeps
        the log unreadable (for as long as a restarted broker may take)."""
        deadline = time.monotonic() + RESTART_WAIT
        while (found := await self._broadcast_violations(record)) and time.monotonic() < deadline:
            if not found[0].startswith("broadcast log not readable yet"):
                break
            await asyncio.sleep(1.0)
        return found

    async def _caught_up(self) -> bool:
        try:
            return await isolated(projections_caught_up(self.endpoints, self.profile), 120.0)
        except NOT_YET as exc:
            self.log(f"chaos: projections not caught up yet ({type(exc).__name__}: {exc})")
            return False

    async def _restart_if_stopped(self) -> list[str]:
        if self.bot.running:
            return []
        found = [f"botctl run stopped:\n{self.bot.log_tail(20)}"]
        async with contextlib.AsyncExitStack() as held:  # not during an outage: it would
            for name in DEPENDENCIES:  # fail fast on a dependency that does not answer
                await held.enter_async_context(self.locks[name])
            self.bot.start()
        await self.bot.wait_services()
        return found

    async def verify(self, record: RunRecord, report: ChaosReport) -> list[str]:
        """Wait until the run's effects have landed (or the settle timeout), then check its
        users' share of the log and note its turns' pauses."""
        found = await self._restart_if_stopped()
        view: LogView | None = None
        try:
            async with asyncio.timeout(self.settle_timeout):
                while (view := await self._run_settled(record)) is None:  # noqa: ASYNC110 - polls
                    await asyncio.sleep(SETTLE_POLL)
        except TimeoutError:
            found.append(f"not settled within {self.settle_timeout:g} s")
            view = await self._view([u.user_id for u in record.plan.users])
        if view is None:
            return [*found, "the log could not be read to check the run"]
        verdict = check_run(view, record, self.telegram, self.token, self.witness)
        for redelivered in verdict.redelivered:
            report.redelivered.append(f"run {record.plan.index}: {redelivered}")
            self.log(f"  run {record.plan.index}: {redelivered} (at least once: no violation)")
        if record.broadcasts:
            verdict.add(await self._final_broadcast_violations(record))
        self._note_pauses(record, report)
        return found + verdict.violations

    def _note_pauses(self, record: RunRecord, report: ChaosReport) -> None:
        kind = record.plan.faults[0].kind if record.plan.faults else "none"
        now = time.monotonic()
        rolling = [(start, min(end, now)) for start, end in self.rolling_windows]
        others = [(start, min(end, now)) for start, end in self.other_windows]
        for stream in turn_streams(record, self.telegram, self.token):
            report.pauses[kind].append(stream.longest_pause)
            first, last = stream.times[0], stream.times[-1]
            overlapping = [(a, b) for a, b in rolling if a < last and b > first]
            if not overlapping:
                continue
            figures = (stream.longest_pause, stream.pause_beyond(overlapping))
            report.rolling.append(figures)
            if not any(a < last and b > first for a, b in others):
                report.rolling_alone.append(figures)  # no other lane's fault meanwhile

    async def full_check(self, report: ChaosReport, *, at_least: int = 1) -> None:
        """Once ``at_least`` runs finished unchecked, with the lanes paused: the projections
        caught up, then the checks over the whole log, ``botctl verify`` and the dead
        letters (see the module docstring)."""
        if len(self.unchecked) < at_least:
            return
        async with self.gate.exclusive_lock:
            if len(self.unchecked) < at_least:
                return  # another lane's check took them
            async with self.gate.exclusive():
                await self._full_check(report)

    async def _full_check(self, report: ChaosReport) -> None:
        runs, self.unchecked = self.unchecked, []
        if not runs:
            return
        label = f"full check after runs {min(runs)}-{max(runs)}"
        began = time.monotonic()
        found = await self._restart_if_stopped()
        try:
            async with asyncio.timeout(self.settle_timeout):
                while not await self._caught_up():  # noqa: ASYNC110 - polls the lag
                    await asyncio.sleep(SETTLE_POLL)
        except TimeoutError:
            found.append(f"projections not caught up within {self.settle_timeout:g} s")
        verdict = await self._check_all()
        report.full_checks += 1
        report.restarts = [b - a for a, b in self.rolling_windows if b != float("inf")]
        report.violations += [f"{label}: {v}" for v in found + verdict.violations]
        took = time.monotonic() - began
        self.log(f"chaos {label}: {len(found) + len(verdict.violations)} violations ({took:.0f} s)")

    async def _check_all(self) -> Verdict:
        """``check_all`` over the whole log, tried again while a dependency just restarted
        cannot answer yet."""
        assert self.tails is not None
        for attempt in range(10):
            try:
                log = await LogView.read(self.tails)
                return await isolated(
                    check_all(
                        self.endpoints, self.profile, log, frozenset(self.expected_dead_letters)
                    ),
                    CHECK_TIMEOUT,
                )
            except NOT_YET as exc:
                self.log(f"chaos: full check failed, again ({attempt}): {exc!r}")
                await asyncio.sleep(3.0)
        return Verdict(["the full check could not read the log, the read models or the lag"])

    async def close(self) -> None:
        if self.tails is not None:
            await self.tails.close()

"""Helpers of the broadcast end-to-end tests: the processes, the users, the verdicts."""

from __future__ import annotations

import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from thread_e2e import ROOT

from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.processes import ChildProcess, stop_process
from devkit.harness.service_fork import spawn
from events.broadcast import BroadcastFinished, DeliveryAttempted, DeliveryRecorded
from events.catalog import USERS_EVENTS
from events.envelope import new_envelope
from events.messages import TelegramUser
from events.users import UserRegistered
from infra.kafka.publisher import EventPublisher
from infra.postgres import quote_schema
from infra.services.supervisor import botctl_argv


@dataclass
class Service:
    """One ``botctl <name>`` child process, restartable, killable with -9."""

    name: str
    env: dict[str, str]
    logs: Path
    proc: ChildProcess | None = None
    pids: list[int] = field(default_factory=list)

    def start(self) -> None:
        self.proc = spawn(botctl_argv(self.name), self.env, ROOT, self.logs / f"{self.name}.log")
        self.pids.append(self.proc.pid)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    async def stop(self) -> None:
        await stop_process(self.proc)

    def log_tail(self, lines: int = 30) -> str:
        path = self.logs / f"{self.name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def register_users(publisher: EventPublisher, user_ids: list[int]) -> None:
    """The users worker's records for ``user_ids`` (the projector lists them as known)."""
    await publisher.publish_all(
        [
            (
                USERS_EVENTS,
                UserRegistered(
                    **new_envelope(key=str(uid), producer="test"),
                    profile=TelegramUser(user_id=uid, first_name=f"U{uid}"),
                    default_model="claude-haiku-4-5-20251001",
                ),
            )
            for uid in user_ids
        ]
    )


async def known_users(database_url: str, schema: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        table = f"{quote_schema(schema)}.users"
        exists = await conn.fetchval("SELECT to_regclass($1)", table)
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}")) if exists else 0
    finally:
        await conn.close()


def most_in_one_second(times: list[float]) -> int:
    """The most calls that started within any one-second span."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@dataclass(frozen=True)
class Outcomes:
    """What the broadcast log says about every recipient of one announcement."""

    outcome: dict[int, str]
    unknown: set[int]
    repeated: Counter[int]
    attempted: set[int]
    finished: list[BroadcastFinished]


def outcomes_of(records: list[Any], announcement_id: str) -> Outcomes:
    outcome: dict[int, str] = {}
    unknown: set[int] = set()
    distinct: dict[int, set[str]] = {}
    for r in records:
        if isinstance(r, DeliveryRecorded) and r.announcement_id == announcement_id:
            distinct.setdefault(r.user_id, set()).add(r.id)
            outcome.setdefault(r.user_id, r.outcome)
            if r.outcome_unknown:
                unknown.add(r.user_id)
    repeated = Counter({u: len(ids) for u, ids in distinct.items() if len(ids) > 1})
    attempted = {
        r.user_id
        for r in records
        if isinstance(r, DeliveryAttempted) and r.announcement_id == announcement_id
    }
    finished = [
        r
        for r in records
        if isinstance(r, BroadcastFinished) and r.announcement_id == announcement_id
    ]
    return Outcomes(outcome, unknown, repeated, attempted, finished)


def send_times(telegram: TelegramEmulator) -> list[float]:
    """When each sendMessage reached Telegram (refused ones included)."""
    return [c.at for c in telegram.calls("sendMessage")]

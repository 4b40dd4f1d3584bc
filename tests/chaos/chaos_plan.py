"""What one chaos run does, drawn from a seeded random generator: the workload and the faults.

Pure: the same seed gives the same plan (users, messages, payments, refunds, which fault,
which service or dependency, at what moment), so a failing run is re-run with its seed.
The timing of the processes themselves is not repeatable; the plan is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from infra.cli.stack_cmds import SERVICES

DEPENDENCIES = ("kafka", "postgres", "redis")
FAULT_KINDS = ("kill9", "duplicate", "outage", "rolling_restart")
FAULT_WEIGHTS = (0.5, 0.2, 0.15, 0.15)


@dataclass(frozen=True, slots=True)
class Fault:
    """``kill9`` of ``target`` (a service); ``duplicate`` delivery of every update of the
    run; ``outage`` of ``target`` (a dependency) for ``duration`` s; ``rolling_restart`` of
    every service in turn. Injected ``at`` seconds after the run's workload starts."""

    kind: str
    at: float
    target: str = ""
    duration: float = 0.0

    def describe(self) -> str:
        where = f" {self.target}" if self.target else ""
        lasting = f" for {self.duration:g}s" if self.duration else ""
        return f"{self.kind}{where} at +{self.at:.1f}s{lasting}"


@dataclass(frozen=True, slots=True)
class UserPlan:
    """One user of a run: messages sent one after the other, an optional Stars payment
    (and its refund)."""

    user_id: int
    messages: int
    pay_stars: int = 0
    refund: bool = False


@dataclass(frozen=True, slots=True)
class RunPlan:
    index: int
    users: tuple[UserPlan, ...]
    faults: tuple[Fault, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Profile:
    """How big the runs are and how long an outage lasts."""

    outage_seconds: float = 30.0
    users: tuple[int, int] = (1, 3)
    messages: tuple[int, int] = (1, 2)
    fault_window: float = 3.0
    kinds: tuple[str, ...] = FAULT_KINDS
    weights: tuple[float, ...] = FAULT_WEIGHTS


def parse_weights(text: str) -> tuple[float, ...]:
    """``kill9=0.6,duplicate=0.3,outage=0.05,rolling_restart=0.05`` as FAULT_KINDS' weights
    (a kind left out weighs 0)."""
    given: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, sep, value = part.partition("=")
        if not sep or kind not in FAULT_KINDS:
            raise ValueError(f"{part!r} is not KIND=WEIGHT with KIND one of {FAULT_KINDS}")
        given[kind] = float(value)
    if not any(given.values()):
        raise ValueError(f"{text!r} gives no fault kind a weight")
    return tuple(given.get(kind, 0.0) for kind in FAULT_KINDS)


def plan_run(rng: random.Random, index: int, profile: Profile, first_user: int) -> RunPlan:
    """The plan of run ``index``; its users are numbered from ``first_user``."""
    users = tuple(
        UserPlan(
            user_id=first_user + n,
            messages=rng.randint(*profile.messages),
            pay_stars=rng.choice((0, 0, 1, 10, 50)),
            refund=rng.random() < 0.5,
        )
        for n in range(rng.randint(*profile.users))
    )
    kind = rng.choices(profile.kinds, weights=profile.weights)[0]
    at = round(rng.uniform(0.0, profile.fault_window), 2)
    if kind == "kill9":
        fault = Fault(kind, at, target=rng.choice(SERVICES))
    elif kind == "outage":
        fault = Fault(kind, at, target=rng.choice(DEPENDENCIES), duration=profile.outage_seconds)
    else:
        fault = Fault(kind, at)
    return RunPlan(index, users, (fault,))

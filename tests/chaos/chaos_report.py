"""What a chaos session reports: runs, faults injected, violations, and how long answers paused.

Every answered turn's longest pause in its stream (see ``chaos_verifier.TurnStream``) is
kept by the fault kind of its run. Turns whose stream overlapped a rolling restart are kept
apart too, with their longest pause *beyond* the restart itself (the part of a pause that
fell within the restart window does not count): the issue's "none paused more than 2 s
beyond the restart", reported as a figure, never asserted on timing.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _figures(values: list[float]) -> dict[str, Any]:
    return {
        "turns": len(values),
        "p50_s": round(percentile(values, 0.5), 2),
        "p99_s": round(percentile(values, 0.99), 2),
        "max_s": round(max(values, default=0.0), 2),
    }


@dataclass
class ChaosReport:
    """Runs done, faults injected (by kind and target), violations (each with its run)."""

    seed: int
    runs: int = 0
    runs_asked: int = 0
    lanes: int = 1
    faults: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)
    """Answers shown twice by the at-least-once window, each with its run (no violation:
    the thread worker was killed after Telegram took the answer and before the completion
    was recorded; see ``chaos_verifier.redelivery``)."""
    messages: int = 0
    payments: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    full_checks: int = 0
    pauses: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Each answered turn's longest pause, by its run's fault kind."""
    rolling: list[tuple[float, float]] = field(default_factory=list)
    """(longest pause, longest pause beyond the restart) of turns overlapping a rolling restart."""
    rolling_alone: list[tuple[float, float]] = field(default_factory=list)
    """The same of those turns no other fault (another lane's kill -9 or outage) overlapped."""
    restarts: list[float] = field(default_factory=list)
    """How long each rolling restart took (first SIGTERM to the last service replaced)."""

    def pause_figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {kind: _figures(v) for kind, v in sorted(self.pauses.items())}
        restarts = [
            round(min(self.restarts, default=0.0), 1),
            round(max(self.restarts, default=0.0), 1),
        ]
        for name, turns in (("", self.rolling), ("_alone", self.rolling_alone)):
            out[f"during_rolling_restart{name}"] = {
                **_figures([p for p, _ in turns]),
                "p50_beyond_restart_s": round(percentile([b for _, b in turns], 0.5), 2),
                "max_beyond_restart_s": round(max((b for _, b in turns), default=0.0), 2),
                "restart_s": restarts,
            }
        return out

    def summary(self) -> str:
        faults = ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items()))
        rolling = self.pause_figures()["during_rolling_restart"]
        return (
            f"chaos seed {self.seed}: {self.runs} runs in {self.lanes} lanes, "
            f"{sum(self.faults.values())} faults ({faults}), {self.messages} messages, "
            f"{self.payments} payments, {self.duplicates} duplicate deliveries, "
            f"{self.full_checks} full checks, {len(self.violations)} violations, "
            f"{len(self.redelivered)} answers shown twice after a kill -9 between "
            "Telegram's acceptance and the completion's record, "
            f"{self.seconds:.0f} s; longest pause during rolling restarts "
            f"{rolling['max_s']} s, beyond the restart {rolling['max_beyond_restart_s']} s "
            f"({rolling['turns']} turns)"
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "seed": self.seed,
            "runs": self.runs,
            "runs_asked": self.runs_asked,
            "lanes": self.lanes,
            "faults_injected": sum(self.faults.values()),
            "faults": dict(self.faults),
            "messages": self.messages,
            "payments": self.payments,
            "duplicates": self.duplicates,
            "full_checks": self.full_checks,
            "violations": self.violations,
            "redelivered": self.redelivered,
            "seconds": round(self.seconds, 1),
            "pauses": self.pause_figures(),
        }
        return json.dumps(data, indent=2)

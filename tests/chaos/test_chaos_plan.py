"""Chaos plans are seeded: the same seed gives the same runs, and every fault kind occurs."""

from __future__ import annotations

import random

import pytest
from chaos_plan import DEPENDENCIES, FAULT_KINDS, Profile, parse_weights, plan_run

from infra.cli.stack_cmds import SERVICES


def _plans(seed: int, runs: int = 200) -> list[object]:
    rng = random.Random(seed)
    return [plan_run(rng, i, Profile(), 1000 + 10 * i) for i in range(runs)]


def test_the_same_seed_gives_the_same_plans() -> None:
    """A failing run is repeated by its seed: plans (users, faults, moments) are equal."""
    assert _plans(16016) == _plans(16016)
    assert _plans(16016) != _plans(16017)


def test_every_fault_kind_and_target_occurs() -> None:
    """Over 200 runs, every kind, every service (kill -9) and every dependency (outage)."""
    faults = [f for plan in _plans(7) for f in plan.faults]  # type: ignore[attr-defined]
    assert {f.kind for f in faults} == set(FAULT_KINDS)
    assert {f.target for f in faults if f.kind == "kill9"} == set(SERVICES)
    assert {f.target for f in faults if f.kind == "outage"} == set(DEPENDENCIES)


def test_weights_are_read_by_kind() -> None:
    """`kill9=3,outage=1` weighs kill -9 three times an outage; other kinds never occur."""
    weights = parse_weights("kill9=3, outage=1")
    assert dict(zip(FAULT_KINDS, weights, strict=True)) == {
        "kill9": 3.0, "duplicate": 0.0, "outage": 1.0, "rolling_restart": 0.0,
    }  # fmt: skip
    rng = random.Random(1)
    profile = Profile(weights=weights)
    kinds = {plan_run(rng, i, profile, 10 * i).faults[0].kind for i in range(100)}
    assert kinds == {"kill9", "outage"}
    with pytest.raises(ValueError, match="KIND=WEIGHT"):
        parse_weights("kill=1")

"""`botctl chaos`: its report reads totals first, then every violation; bad input is refused."""

from __future__ import annotations

import pytest

from infra.cli.chaos_cmds import summary
from infra.cli.main import main


def test_the_summary_gives_runs_faults_and_each_violation() -> None:
    """The lines an operator reads: seed, runs and lanes, faults by kind, workload, full
    checks, the longest pause during rolling restarts, violations."""
    text = summary(
        {
            "seed": 7,
            "runs": 3,
            "runs_asked": 10,
            "seconds": 125.4,
            "lanes": 3,
            "full_checks": 1,
            "pauses": {
                "during_rolling_restart": {"turns": 5, "max_s": 9.5, "max_beyond_restart_s": 1.2}
            },
            "faults_injected": 3,
            "faults": {"kill9 gateway": 2, "duplicate": 1},
            "messages": 12,
            "payments": 2,
            "duplicates": 4,
            "violations": ["run 1 (kill9 gateway at +1.0s): payment x credited 2 times"],
        }
    )
    assert text.splitlines() == [
        "chaos: seed 7, 3 runs (of 10 asked) in 125 s, 3 at once",
        "faults injected: 3 (duplicate: 1, kill9 gateway: 2)",
        "workload: 12 messages, 2 payments, 4 duplicate deliveries",
        "full checks (botctl verify, whole log): 1",
        "longest pause of a streamed answer during a rolling restart: 9.5 s, beyond the "
        "restart itself 1.2 s (5 turns)",
        "violations: 1",
        "  run 1 (kill9 gateway at +1.0s): payment x credited 2 times",
    ]


def test_zero_runs_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`--runs 0` ends with one line naming the option, status 2."""
    assert main(["chaos", "--runs", "0"]) == 2
    assert "--runs must be at least 1" in capsys.readouterr().err

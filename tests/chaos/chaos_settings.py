"""The chaos suite's settings, read from the environment (``botctl chaos`` sets them).

* ``CHAOS_SEED``: the seed of the run plans (default: a fixed one for CI; ``random``: a new
  one), printed in the header and in every failure, so a failing run can be repeated;
* ``CHAOS_RUNS``: how many randomized runs (default 1: the CI profile);
* ``CHAOS_OUTAGE_SECONDS``: how long a dependency stays stopped (default 3 in CI; the long
  profile uses 30);
* ``CHAOS_MINUTES``: start no run after this many minutes (the report says how many ran);
* ``CHAOS_LANES``: how many runs go at once (default 1);
* ``CHAOS_WEIGHTS``: the fault kinds' weights, ``kill9=0.6,duplicate=0.3,...`` (default
  ``chaos_plan.FAULT_WEIGHTS``);
* ``CHAOS_LOG_DIR``: where ``botctl run``'s log goes (default: a pytest temporary folder);
* ``CHAOS_FULL_CHECK_EVERY``: the whole-log checks and ``botctl verify`` after every that many
  runs (default 1: after each) and after the last;
* ``CHAOS_REPORT``: a file to write the JSON report to (rewritten after every run);
* ``CHAOS_ROLLING_TURNS``: the streaming turns of the rolling-restart scenario (default 100).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from chaos_plan import parse_weights

CI_SEED = 16016
"""The CI profile's plan (its first run: a kill -9 of the payments process mid-payment), fixed
so that CI is repeatable; ``CHAOS_SEED=random`` or ``botctl chaos`` explore other seeds."""
_SEED = os.environ.get("CHAOS_SEED") or str(CI_SEED)
SEED = secrets.randbelow(1_000_000) if _SEED == "random" else int(_SEED)
RUNS = int(os.environ.get("CHAOS_RUNS") or 1)
OUTAGE_SECONDS = float(os.environ.get("CHAOS_OUTAGE_SECONDS") or 3)
MINUTES = float(os.environ["CHAOS_MINUTES"]) if os.environ.get("CHAOS_MINUTES") else None
LANES = int(os.environ.get("CHAOS_LANES") or 1)
FULL_CHECK_EVERY = int(os.environ.get("CHAOS_FULL_CHECK_EVERY") or 1)
WEIGHTS = parse_weights(os.environ["CHAOS_WEIGHTS"]) if os.environ.get("CHAOS_WEIGHTS") else None
BOT_TOKEN = "7100000001:chaos-suite-bot-token"
API_KEY = "sk-ant-chaos-suite-api-key"


def report_path() -> Path | None:
    raw = os.environ.get("CHAOS_REPORT")
    return Path(raw) if raw else None


ROLLING_TURNS = int(os.environ.get("CHAOS_ROLLING_TURNS") or 100)
"""The rolling-restart scenario's streaming turns (``botctl chaos --rolling-restart-turns``)."""

"""Dev commands (``botctl emulators``, ``botctl demo``) need the dev package ``devkit``, which
``./dev`` installs and production images do not: without it they stop with one line."""

from __future__ import annotations

import importlib.util
import sys


def dev_package_missing(command: str) -> bool:
    """True (after printing one line saying how to get it) when ``devkit`` is not installed."""
    if importlib.util.find_spec("devkit") is not None:
        return False
    print(
        f"botctl {command}: needs the development package 'devkit' (the emulators), which "
        "production installs leave out; install it with ./dev or pip install -e ./devkit",
        file=sys.stderr,
    )
    return True

"""The dev commands without the dev package: one clear line, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

# botctl with the dev package hidden, as in a production image without it.
_WITHOUT_DEVKIT = (
    "import sys; sys.modules['devkit'] = None; "
    "from infra.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize("command", ["emulators", "demo"])
def test_a_dev_command_without_the_dev_package_says_how_to_get_it(command: str) -> None:
    """`botctl emulators` / `botctl demo` without devkit exit 2 with one line naming ./dev."""
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_DEVKIT, command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"botctl {command}: needs the development package 'devkit'" in lines[0]
    assert "./dev" in lines[0]

"""The production packages stand without the dev package (``devkit``: emulators, fakes)."""

from __future__ import annotations

import subprocess
import sys

# Imports every production module with ``devkit`` made unimportable, as in a production image.
# The demo (a dev command's implementation) and ``__main__`` modules (they run on import) are
# left out; botctl's dev commands are covered by tests/unit/cli/test_dev_package_commands.py.
_IMPORT_ALL = """
import importlib, pkgutil, sys
sys.modules["devkit"] = None
failed = []
for name in ("events", "actors", "projections", "infra"):
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        if info.name.startswith("infra.demo") or info.name.endswith(".__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as error:
            failed.append(f"{info.name}: {error!r}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_production_module_imports_without_the_dev_package() -> None:
    """No module of events/, actors/, projections/ or infra/ needs devkit to import."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

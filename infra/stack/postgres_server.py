"""The embedded PostgreSQL: its cluster folder, initdb on first use, and its server process.

As root, PostgreSQL runs as an unprivileged system user; when that user cannot reach the state
folder, the cluster lives in ``/var/lib/claudegram/pgdata-<hash of the state folder>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Final

from infra.stack import binaries
from infra.stack.ports import free_port
from infra.stack.processes import spawn
from infra.stack.state import HOST, ServiceState, StackError

PG_SYSTEM_USER: Final = "claudegram-pg"
PG_ROOT_DATA: Final = Path("/var/lib/claudegram")


def pg_user() -> str | None:
    """The system user PostgreSQL runs as: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    return PG_SYSTEM_USER


def pg_data_dir(state_dir: Path, user: str | None) -> Path:
    """Where PostgreSQL keeps its cluster for this state folder: inside it, unless PostgreSQL
    runs as another user (we are root) who cannot traverse it; then a stable folder of its own
    named for the state folder, so every start of the same stack finds the same data."""
    local = state_dir / "postgres"
    if user is None or binaries.traversable_by_others(state_dir):
        return local
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:16]
    return PG_ROOT_DATA / f"pgdata-{digest}"


def forget_orphaned_pg_data() -> None:
    """Delete the root-side PostgreSQL folders whose state folder no longer exists (and the
    owner notes of folders deleted by other means)."""
    for owner in PG_ROOT_DATA.glob("pgdata-*.owner"):
        try:
            state_dir = Path(owner.read_text().strip())
        except OSError:
            continue
        if not state_dir.exists() or not owner.with_suffix("").exists():
            shutil.rmtree(owner.with_suffix(""), ignore_errors=True)
            owner.unlink(missing_ok=True)


def prepare_pg_data(state_dir: Path, user: str | None) -> tuple[Path, bool]:
    """The data folder, made (owned by ``user``) if new; True when it holds a cluster."""
    data_dir = pg_data_dir(state_dir, user)
    if (data_dir / "PG_VERSION").is_file():
        return data_dir, True
    shutil.rmtree(data_dir, ignore_errors=True)  # an initdb that did not finish
    if data_dir.parent == PG_ROOT_DATA:
        PG_ROOT_DATA.mkdir(mode=0o755, parents=True, exist_ok=True)
        forget_orphaned_pg_data()
    data_dir.mkdir(parents=True)
    if data_dir.parent == PG_ROOT_DATA:
        data_dir.with_suffix(".owner").write_text(f"{state_dir}\n")
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)
    return data_dir, False


async def initdb(bindir: Path, data_dir: Path, user: str | None) -> None:
    initdb = await asyncio.create_subprocess_exec(
        str(bindir / "initdb"),
        "-D",
        str(data_dir),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        user=user,
    )
    out, _ = await initdb.communicate()
    if initdb.returncode != 0:
        raise StackError(f"postgres: initdb failed: {out.decode(errors='replace')[-2000:]}")


async def spawn_postgres(state_dir: Path) -> ServiceState:
    """Start PostgreSQL on its cluster (made by initdb on first use); not yet waited for."""
    user = pg_user()
    bindir = binaries.postgres_bin_dir(for_other_user=user is not None)
    data_dir, existing = prepare_pg_data(state_dir, user)
    if not existing:
        await initdb(bindir, data_dir, user)
    port = free_port()
    log_path = state_dir / "logs" / "postgres.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if user is not None:
        log_path.touch()
        shutil.chown(log_path, user)
    record = spawn(
        "postgres",
        [
            str(bindir / "postgres"),
            "-D",
            str(data_dir),
            "-h",
            HOST,
            "-p",
            str(port),
            "-k",
            str(data_dir),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
        ],
        log_path,
        user=user,
    )
    return ServiceState(
        "postgres", f"postgresql://postgres@{HOST}:{port}/postgres", record, str(data_dir)
    )

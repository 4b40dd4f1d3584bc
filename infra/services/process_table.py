"""The bot's processes as Linux lists them (``/proc``): a process's children and
descendants, and which of them runs which service.

A service run by ``botctl run`` is a fork of its fork server (a grandchild of ``botctl run``,
see :mod:`infra.services.forkserver`) or, in tests, a child of another process; either way
its command line ends in ``-m infra.cli.main <service>`` (a fork's is its process title: one
string with spaces instead of separate arguments). Benchmarks and the chaos suite find the
services' pids here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

PROC = Path("/proc")


def _ppids() -> dict[int, int]:
    """Every live process's parent (zombies included: they still have a parent)."""
    out: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] not in ("Z", "X"):
                out[int(entry.name)] = int(fields[1])
    return out


def children(pid: int) -> list[int]:
    """The live child processes of ``pid``."""
    return [child for child, parent in _ppids().items() if parent == pid]


def descendants(pid: int, exclude: Collection[int] = ()) -> list[int]:
    """``pid`` and every live process below it, without the subtrees of ``exclude``."""
    below: dict[int, list[int]] = {}
    for child, parent in _ppids().items():
        below.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += [c for c in below.get(current, []) if c not in exclude]
    return found


def command_line(pid: int) -> list[str]:
    """The arguments of ``pid``'s command line ([] once it is gone); a process title set by
    ``setproctitle`` is split at its spaces."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    args = [a for a in raw.decode(errors="replace").split("\0") if a]
    return args[0].split() if len(args) == 1 else args


def service_pids(root: int, services: Iterable[str]) -> dict[str, int]:
    """The pid of each of ``services`` running below ``root`` (a service being restarted
    is absent)."""
    wanted = set(services)
    out: dict[str, int] = {}
    for pid in descendants(root):
        argv = command_line(pid)
        if len(argv) >= 3 and argv[-3:-1] == ["-m", "infra.cli.main"] and argv[-1] in wanted:
            out[argv[-1]] = pid
    return out

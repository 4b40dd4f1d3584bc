"""``render_latex``: LaTeX to PNG with the system's TeX (``latex`` then ``dvipng``).

Safety: ``-no-shell-escape`` (``\\write18`` runs nothing), kpathsea's paranoid file access
(``openin_any=p``, ``openout_any=p``: no reading or writing outside the job's temporary
directory, no dot files), ``-halt-on-error`` with no terminal input, and a time limit for
each program (the whole process group is killed past it). The document is compiled in a
fresh temporary directory that is removed afterwards.

Where no TeX engine is installed (``latex`` or ``dvipng`` not found on ``bin_dir`` or the
PATH), :meth:`LatexRenderer.render` raises ``unavailable`` with a message for the model (the
turn goes on; the model can show the formula as text). The Docker image installs
``texlive-latex-base`` and ``dvipng``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from actors.thread.tools.failure import ToolFailure

NOT_INSTALLED: Final = (
    "LaTeX rendering is not available on this server (no TeX engine is installed); "
    "show the formula as text (Unicode or a code block) instead"
)
PREAMBLE: Final = (
    "\\documentclass[12pt]{article}\n"
    "\\usepackage{amsmath,amssymb}\n"
    "\\pagestyle{empty}\n"
    "\\begin{document}\n"
)
_MATH_MARKERS: Final = re.compile(r"\$|\\\[|\\\(|\\begin\{")


@dataclass(frozen=True, slots=True)
class Engine:
    latex: str
    dvipng: str


def find_engine(bin_dir: Path | None = None) -> Engine | None:
    """``latex`` and ``dvipng`` from ``bin_dir`` (else the PATH); ``None`` if either is
    missing."""
    path = str(bin_dir) if bin_dir is not None else None
    latex = shutil.which("latex", path=path)
    dvipng = shutil.which("dvipng", path=path)
    return Engine(latex, dvipng) if latex and dvipng else None


def document(source: str) -> str:
    """A whole document: ``source`` as is when it is one, else wrapped (a bare formula in
    display math)."""
    if "\\documentclass" in source:
        return source
    body = source.strip()
    if not _MATH_MARKERS.search(body):
        body = f"\\[\n{body}\n\\]"
    return f"{PREAMBLE}{body}\n\\end{{document}}\n"


def _log_errors(log_text: str) -> str:
    lines = log_text.splitlines()
    picked: list[str] = []
    for index, line in enumerate(lines):
        if line.startswith("!"):
            picked.append(line)
            picked.extend(x for x in lines[index + 1 : index + 3] if x.startswith("l."))
    return " ".join(picked[:4]) or "the document did not compile"


class LatexRenderer:
    """:class:`~actors.thread.tools.providers.LatexPort` on the system's TeX."""

    def __init__(self, *, bin_dir: Path | None = None, timeout: float = 10.0) -> None:
        self.bin_dir = bin_dir
        self.timeout = timeout

    @property
    def engine(self) -> Engine | None:
        return find_engine(self.bin_dir)

    async def render(self, source: str, *, dpi: int) -> bytes:
        engine = self.engine
        if engine is None:
            raise ToolFailure("unavailable", NOT_INSTALLED)
        with tempfile.TemporaryDirectory(prefix="latex-") as tmp:
            work = Path(tmp)
            (work / "doc.tex").write_text(document(source), encoding="utf-8")
            env = {
                # the engine's own folder (its helpers sit beside it) and the system's
                # default path: TeX never sees the worker's environment and its secrets
                "PATH": os.pathsep.join([str(Path(engine.latex).parent), os.defpath]),
                "HOME": tmp,
                "TEXMFOUTPUT": tmp,
                "openin_any": "p",
                "openout_any": "p",
                "shell_escape": "f",
            }
            code = await self._run(
                [
                    engine.latex,
                    "-no-shell-escape",
                    "-interaction=nonstopmode",
                    "-halt-on-error",
                    "doc.tex",
                ],
                work,
                env,
            )
            if code != 0 or not (work / "doc.dvi").exists():
                log_file = work / "doc.log"
                text = log_file.read_text(errors="replace") if log_file.exists() else ""
                raise ToolFailure("invalid_input", f"LaTeX error: {_log_errors(text)}")
            command = [engine.dvipng, "-D", str(dpi), "-T", "tight", "-bg", "Transparent"]
            command += ["-p", "1", "-l", "1", "-o", "doc.png", "doc.dvi"]
            code = await self._run(command, work, env)
            png = work / "doc.png"
            if code != 0 or not png.exists():
                raise ToolFailure("provider_error", "dvipng could not turn the page into a PNG")
            return png.read_bytes()

    async def _run(self, argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            return await asyncio.wait_for(proc.wait(), self.timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            name = Path(argv[0]).name
            raise ToolFailure(
                "timeout", f"{name} took longer than {self.timeout:g} s and was stopped"
            ) from None

"""``render_latex`` on the system's TeX. The not-installed path runs on every machine (the
renderer pointed at an empty folder); the rendering tests need ``latex`` and ``dvipng`` on
the PATH (the Docker image has them; ``apt-get install texlive-latex-base dvipng``) and are
skipped, saying so, where they are missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tool_harness import providers_with, tool_context

from actors.thread.tools import render_latex
from actors.thread.tools.base import ToolFailure
from actors.thread.tools.image_info import image_dimensions
from infra.files.pg_store import PostgresFileStore
from infra.tools.latex import NOT_INSTALLED, LatexRenderer, document, find_engine

needs_tex = pytest.mark.skipif(
    find_engine() is None,
    reason="no latex/dvipng on this machine: only the not-installed path can run here",
)


async def test_without_a_tex_engine_the_tool_says_so(
    file_store: PostgresFileStore, tmp_path: Path
) -> None:
    """No engine: the call fails as unavailable with a message telling the model to write
    the formula as text (the turn goes on), and nothing is charged."""
    renderer = LatexRenderer(bin_dir=tmp_path)
    ctx = tool_context(file_store, providers=providers_with(latex=renderer))
    with pytest.raises(ToolFailure) as caught:
        await render_latex.run({"latex": "x^2"}, ctx)
    assert caught.value.error_class == "unavailable"
    assert caught.value.message == NOT_INSTALLED
    assert caught.value.quantities.is_zero()


def test_a_bare_formula_is_wrapped_and_a_document_kept() -> None:
    """A formula without delimiters goes into display math; a whole document is kept."""
    wrapped = document(r"\frac{a}{b}")
    assert "\\[\n\\frac{a}{b}\n\\]" in wrapped
    assert wrapped.startswith("\\documentclass")
    whole = "\\documentclass{article}\\begin{document}hi\\end{document}"
    assert document(whole) == whole


@needs_tex
async def test_a_formula_becomes_a_png(file_store: PostgresFileStore) -> None:
    """The formula is a PNG file (shown to the model too), free."""
    ctx = tool_context(file_store, providers=providers_with(latex=LatexRenderer(timeout=30)))
    result = await render_latex.run({"latex": r"\int_0^1 x^2\,dx = \frac{1}{3}", "dpi": 150}, ctx)
    [made] = result.new_files
    assert made.mime_type == "image/png"
    assert image_dimensions(made.data)[0] > 50
    assert json.loads(result.output)["rendered"] is True
    assert [b["type"] for b in result.blocks] == ["image"]
    assert result.quantities.is_zero()


@needs_tex
async def test_a_latex_error_names_the_line(file_store: PostgresFileStore) -> None:
    """A document that does not compile fails as invalid_input with TeX's error."""
    ctx = tool_context(file_store, providers=providers_with(latex=LatexRenderer(timeout=30)))
    with pytest.raises(ToolFailure, match="Undefined control sequence") as caught:
        await render_latex.run({"latex": r"\nosuchmacro{x}"}, ctx)
    assert caught.value.error_class == "invalid_input"


@needs_tex
async def test_no_shell_escape_and_no_reading_outside(
    file_store: PostgresFileStore, tmp_path: Path
) -> None:
    """\\write18 runs nothing and an absolute \\input path is not readable."""
    marker = tmp_path / "pwned"
    source = (
        "\\documentclass{article}\\begin{document}"
        f"\\immediate\\write18{{touch {marker}}}\\input{{/etc/hostname}}"
        "\\end{document}"
    )
    ctx = tool_context(file_store, providers=providers_with(latex=LatexRenderer(timeout=30)))
    with pytest.raises(ToolFailure) as caught:
        await render_latex.run({"latex": source}, ctx)
    assert caught.value.error_class == "invalid_input"
    assert not marker.exists()


@needs_tex
async def test_a_runaway_document_hits_the_time_limit(file_store: PostgresFileStore) -> None:
    """An endless loop is killed at the time limit and fails the call as a timeout."""
    renderer = LatexRenderer(timeout=3)
    ctx = tool_context(file_store, providers=providers_with(latex=renderer))
    loop = "\\documentclass{article}\\begin{document}\\loop\\iftrue\\repeat\\end{document}"
    with pytest.raises(ToolFailure) as caught:
        await render_latex.run({"latex": loop}, ctx)
    assert caught.value.error_class == "timeout"
    assert "longer than 3 s" in caught.value.message

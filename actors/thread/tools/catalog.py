"""The tools every thread worker offers the model: one line per tool (see the package
docstring for how to add one)."""

from __future__ import annotations

from typing import Final

from actors.thread.tools import (
    analyze_image,
    analyze_pdf,
    deliver_file,
    estimate_cost,
    execute_python,
    extended_thinking,
    generate_image,
    list_files,
    preview_file,
    render_latex,
    self_critique,
    transcribe_audio,
    web_fetch,
    web_search,
)
from actors.thread.tools.base import Tool
from actors.thread.tools.registry import ToolRegistry

BUILTIN_TOOLS: Final[tuple[Tool, ...]] = (
    web_search.TOOL,
    web_fetch.TOOL,
    list_files.TOOL,
    preview_file.TOOL,
    analyze_image.TOOL,
    analyze_pdf.TOOL,
    extended_thinking.TOOL,
    self_critique.TOOL,
    estimate_cost.TOOL,
    execute_python.TOOL,
    generate_image.TOOL,
    transcribe_audio.TOOL,
    render_latex.TOOL,
    deliver_file.TOOL,
)  # fmt: skip


def default_registry() -> ToolRegistry:
    """A fresh registry of :data:`BUILTIN_TOOLS` (the worker's composition root uses it)."""
    return ToolRegistry(BUILTIN_TOOLS)

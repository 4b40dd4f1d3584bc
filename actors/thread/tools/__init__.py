"""Tools the model may call during a turn.

Adding a tool is one file plus one line:

1. Write ``actors/thread/tools/<name>.py`` defining ``TOOL = Tool(...)``
   (:class:`~actors.thread.tools.base.Tool`): its name, a description for the model, the
   JSON Schema of its input, whether it is ``paid``, its crash rule ``on_interrupt``
   (``"fail"`` if running it twice would repeat an effect, ``"rerun_once"`` if it is safe),
   its ``timeout``, a ``status`` line for the user, and its executor
   ``async def run(tool_input, ctx) -> ToolResult``. The executor does its work only
   through ``ctx`` (:class:`~actors.thread.tools.base.ToolContext`: thread key, user id,
   the thread's history and files, the ``claude`` and ``file_store`` ports), reports what it
   consumed as ``ToolResult.quantities`` (never money: the runtime prices quantities with
   ``actors/billing/pricing.py``), and raises
   :class:`~actors.thread.tools.base.ToolFailure` for an error the model should see.
2. Add ``<name>.TOOL,`` to ``BUILTIN_TOOLS`` in :mod:`actors.thread.tools.catalog`.

A Claude server tool (``web_search``...) is a ``Tool(server=True, api_definition={...})``
without an executor. ``estimate_cost`` is the smallest complete example. Tests register
test-only tools with ``default_registry().with_tools(...)``.
"""

from actors.thread.tools.base import (
    CrashRule,
    Executor,
    FilesPort,
    FilesSource,
    ModelPort,
    ModelReply,
    Tool,
    ToolContext,
    ToolFailure,
    ToolResult,
)
from actors.thread.tools.registry import ToolRegistry

__all__ = [
    "CrashRule",
    "Executor",
    "FilesPort",
    "FilesSource",
    "ModelPort",
    "ModelReply",
    "Tool",
    "ToolContext",
    "ToolFailure",
    "ToolRegistry",
    "ToolResult",
]

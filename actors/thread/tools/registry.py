"""The set of tools a thread worker offers the model, by name, in a stable order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from actors.thread.tools.base import Tool
from events.usage import ModelId


class ToolRegistry:
    """Tools by name; :meth:`definitions` is the request's ``tools`` list (registration order,
    so the list, and the prompt cache prefix it starts, stays the same between requests)."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def with_tools(self, *tools: Tool) -> ToolRegistry:
        """A copy with ``tools`` added (the worker's registry plus test-only tools)."""
        return ToolRegistry([*self._tools.values(), *tools])

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def definitions(self, model: ModelId | None = None) -> list[dict[str, Any]]:
        """The ``tools`` list (for ``model``: only the tools offered to it)."""
        return [tool.definition() for tool in self.offered(model)]

    def offered(self, model: ModelId | None = None) -> list[Tool]:
        return [t for t in self._tools.values() if model is None or t.offered(model)]

    def betas(self, model: ModelId | None = None) -> tuple[str, ...]:
        """Beta headers a request offering these tools needs (sorted, no repeats)."""
        return tuple(sorted({b for tool in self.offered(model) for b in tool.betas}))

    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

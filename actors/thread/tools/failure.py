"""The one exception a tool (or a port it uses) raises for an error the model should see."""

from __future__ import annotations

from events.usage import ToolQuantities


class ToolFailure(Exception):
    """Raised by an executor (or a port) to fail the call with a class the model is told.

    ``error_class`` is one of :data:`events.tools.TOOL_ERROR_CLASSES`; ``quantities`` is what
    was consumed before the failure (it is charged).
    """

    def __init__(
        self,
        error_class: str,
        message: str,
        *,
        quantities: ToolQuantities | None = None,
    ) -> None:
        super().__init__(f"{error_class}: {message}")
        self.error_class = error_class
        self.message = message
        self.quantities = quantities or ToolQuantities()

"""The ledger charge of what a tool consumed: a client tool's call, a voice transcription."""

from __future__ import annotations

from typing import Final

from events.billing import UsageChargeRequested
from events.envelope import caused_by
from events.files import FileTranscribed
from events.keys import user_key
from events.tools import ToolCallCompleted, ToolCallFailed
from events.usage import ToolQuantities

PRODUCER: Final = "thread-actor"
"""The producer of what the thread actor writes (the actor decides with the same name)."""


def tool_usage_charge(
    event: ToolCallCompleted | ToolCallFailed | FileTranscribed,
    *,
    operation_id: str,
    source: str,
    tool_name: str,
    quantities: ToolQuantities,
) -> UsageChargeRequested:
    """The billing command charging ``quantities`` of ``tool_name`` to the event's user,
    caused by the event (the thread's turn, under ``operation_id``)."""
    return UsageChargeRequested(
        **caused_by(
            event,
            producer=PRODUCER,
            key=user_key(event.user_id),
            label="charge",
            occurred_at=event.occurred_at,
        ),
        operation_id=operation_id,
        user_id=event.user_id,
        source=source,
        source_event_id=event.id,
        thread_key=event.key,
        turn_id=event.turn_id,
        tool_name=tool_name,
        tool_quantities=quantities,
    )

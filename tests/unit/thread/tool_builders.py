"""A running turn with a tool step, and an in-memory commit, for the tool loop's unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from thread_builders import user_message

from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.models import SONNET
from actors.thread.outcomes import assistant_completed
from actors.thread.state import RunningTurn, ThreadState, initial_state
from events.billing import UsageChargeRequested
from events.catalog import ThreadEvent
from events.usage import Usage


def started_state() -> ThreadState:
    """A thread whose turn has started (no step yet)."""
    command = user_message("use the tools")
    decision = decide_messages(initial_state(command.key), [command], Facts(balance=Decimal(5)))
    return evolve_all(initial_state(command.key), decision.events)


def use(tool_use_id: str, name: str, tool_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_use_id, "name": name, "input": dict(tool_input or {})}


def step_event(running: RunningTurn, content: Sequence[Mapping[str, Any]], step: int = 1) -> Any:
    return assistant_completed(
        running,
        step=step,
        model=SONNET,
        api_message_id=f"msg_{step}",
        text="",
        stop_reason="tool_use",
        usage=Usage(input_tokens=100, output_tokens=10),
        content=tuple(dict(b) for b in content),
        tool_use_ids=tuple(str(b["id"]) for b in content if b["type"] == "tool_use"),
    )


@dataclass
class MemoryCommit:
    """The turn's commit over an in-memory state: evolve and remember what was committed."""

    state: ThreadState
    events: list[ThreadEvent] = field(default_factory=list)
    charges: list[UsageChargeRequested] = field(default_factory=list)
    committed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(
        self,
        events: Sequence[ThreadEvent],
        charges: Sequence[UsageChargeRequested],
        /,
        *,
        publish_later: bool = False,
    ) -> ThreadState:
        self.state = evolve_all(self.state, list(events))
        self.events.extend(events)
        self.charges.extend(charges)
        self.committed.set()
        return self.state

    @property
    def running(self) -> RunningTurn:
        assert self.state.running is not None
        return self.state.running

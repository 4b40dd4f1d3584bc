"""A turn in flight in this process: the runner's configuration, the turn's handle (its task,
what it has shown and consumed), and the commit of a step the turn continues after."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from actors.thread.outcomes import usage_charge
from actors.thread.progress import TurnTrace
from actors.thread.state import RunningTurn, ThreadState
from actors.thread.tool_events import server_tool_events
from events.billing import UsageChargeRequested
from events.catalog import BillingCommand, ThreadEvent
from events.envelope import utc_now
from events.messages import UserMessage
from events.thread import AssistantMessageCompleted
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested
from events.usage import Usage
from infra.threads.claude_client import StepResult, StreamProgress
from infra.threads.holds import TurnHolds
from infra.threads.store_port import Commit
from infra.threads.tool_execution import ToolTurn

DEFAULT_MAX_ITERATIONS: Final = 25


@dataclass(slots=True)
class TurnConfig:
    model_retries: int = 1
    max_retry_wait: float = 5.0
    title_timeout: float = 15.0
    drafts: bool = True
    first_draft_delay: float = 0.2
    """No draft before this long after the first token: a faster answer goes out whole."""
    typing_delay: float = 0.3
    """'typing…' starts this long into a turn (an instant answer needs none)."""
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    """Model calls of one turn's tool loop; the last is made with tools disabled."""


@dataclass(slots=True)
class Timings:
    received_at: float | None = None
    request_at: float | None = None
    last_token_at: float | None = None
    final_at: float | None = None


@dataclass(slots=True)
class TurnHandle:
    """One turn in flight in this process (the task, what it has shown and consumed)."""

    running: RunningTurn
    state: ThreadState
    inputs: tuple[UserMessage, ...] = ()
    name_topic: bool = False
    task: asyncio.Task[None] | None = None
    cancel_reason: str | None = None
    progress: StreamProgress = field(default_factory=StreamProgress)
    text_done: str = ""
    finalizing: bool = False
    finished: bool = False
    timings: Timings = field(default_factory=Timings)
    acks: list[Callable[[], None]] = field(default_factory=list)
    drafts: set[asyncio.Task[bool]] = field(default_factory=set)
    trace: TurnTrace = field(default_factory=TurnTrace)
    """What the user sees of the turn's work (thinking, tool lines, sources)."""
    action_changed: asyncio.Event = field(default_factory=asyncio.Event)
    tools: ToolTurn = field(default_factory=ToolTurn)
    answered_usage: Usage | None = None
    """The whole usage of a model call that completed but whose answer was not yet committed:
    if delivering the answer fails, the turn fails, and this is what was consumed."""
    holds: TurnHolds | None = None
    """Reserves each model call's estimated cost with billing (see infra.threads.holds)."""
    files_refreshed: bool = False
    """The turn already uploaded its files again after the API said one was gone."""

    async def stop_drafts(self) -> None:
        """Cancel drafts in flight, so none lands after the final message."""
        pending = list(self.drafts)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.drafts.clear()

    @property
    def user_id(self) -> int:
        return self.running.started.user_id

    async def settle(
        self, charge: UsageChargeRequested | None, reason: str
    ) -> list[BillingCommand]:
        """The call's charge naming its reservation, or the reservation's release."""
        if self.holds is None:
            return [charge] if charge is not None else []
        return await self.holds.settle(self.running, charge, reason)

    def server_events(
        self, step: int, result: StepResult
    ) -> list[ToolCallRequested | ToolCallCompleted | ToolCallFailed]:
        """Records of the server tools the API ran in this step (none for most steps)."""
        if not any(b.get("type") == "server_tool_use" for b in result.content):
            return []
        return server_tool_events(self.running, step=step, content=result.content, at=utc_now())

    async def commit_step(
        self,
        commit: Commit,
        event: AssistantMessageCompleted,
        extra: Sequence[ThreadEvent] = (),
    ) -> None:
        """Commit a step the turn continues after; with ``extra`` (its tool requests) only the
        state write is waited for: it is what must be durable before a call runs."""
        charge = usage_charge(
            event,
            user_id=self.user_id,
            turn_id=self.running.turn_id,
            requested_model=self.running.started.model,
        )
        billing = await self.settle(charge, "no_usage")
        state = await commit([event, *extra], billing, publish_later=bool(extra))
        self.text_done += event.text
        self.progress = StreamProgress()
        if state.running is not None:
            self.running = state.running

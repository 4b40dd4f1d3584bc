"""A turn's client tool steps: the step committed with its tool requests, the calls run
(their status lines in the draft meanwhile), and the messages that carry the step and its
results into the next request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from actors.thread.outcomes import assistant_completed
from actors.thread.state import ThreadState
from actors.thread.tool_calls import client_tool_uses, step_messages
from actors.thread.tools.base import thread_files
from events.catalog import BillingCommand, ThreadEvent
from infra.threads.claude_client import StepResult
from infra.threads.metrics import TOOL_STEP_OVERHEAD
from infra.threads.shield import shielded
from infra.threads.store_port import Commit
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn_drafts import TurnDrafts
from infra.threads.turn_state import TurnHandle


def tracking(handle: TurnHandle, commit: Commit) -> Commit:
    """``commit`` that also counts what the turn charged (the paid-tool balance check)."""

    async def tracked(
        events: Sequence[ThreadEvent],
        charges: Sequence[BillingCommand],
        /,
        *,
        publish_later: bool = False,
    ) -> ThreadState:
        state = await commit(events, charges, publish_later=publish_later)
        ToolRuntime.track(handle.tools, charges)
        return state

    return tracked


class ToolSteps:
    def __init__(self, tools: ToolRuntime, drafts: TurnDrafts, clock: Callable[[], float]) -> None:
        self.tools = tools
        self.drafts = drafts
        self.clock = clock

    async def run(
        self, handle: TurnHandle, commit: Commit, result: StepResult, step: int
    ) -> list[dict[str, Any]]:
        """Commit the step with its tool requests, run the calls, return the messages that
        carry the step and its results into the next request."""
        uses = client_tool_uses(result.content)
        event = assistant_completed(
            handle.running,
            step=step,
            model=result.model or handle.running.started.model,
            api_message_id=result.api_message_id,
            text=result.text,
            stop_reason=result.stop_reason,
            usage=result.usage,
            content=tuple(result.content),
            tool_use_ids=tuple(str(u.get("id", "")) for u in uses),
        )
        began = self.clock()
        requests = self.tools.requests(handle.running, step, result.content)
        server = handle.server_events(step, result)
        await shielded(handle.commit_step(commit, event, [*server, *requests]))
        self._trace_calls(handle, uses)
        ticker = asyncio.create_task(self.drafts.show_tools(handle))
        try:
            handle.running = await self.tools.run_pending(
                handle.running, handle.state, handle.tools, commit
            )
        finally:
            ticker.cancel()
        for note in handle.running.tool_calls:
            if note.finished:
                handle.trace.tool_finished(note.tool_use_id, ok=note.status == "completed")
        handle.action_changed.set()
        messages = step_messages(handle.running, handle.running.transcript[-1], handle.tools.blocks)
        TOOL_STEP_OVERHEAD.observe(max(0.0, self.clock() - began - handle.tools.work))
        return messages

    def _trace_calls(self, handle: TurnHandle, uses: Sequence[Mapping[str, Any]]) -> None:
        """A draft line per client tool call of the step (its tool's status line)."""
        for use in uses:
            name = str(use.get("name", ""))
            tool = self.tools.registry.get(name)
            raw = use.get("input")
            tool_input = raw if isinstance(raw, Mapping) else {}
            status = tool.status_line(tool_input) if tool else f"using {name}"
            action = None
            if tool is not None and tool.chat_action is not None:
                state = handle.tools.latest or handle.state
                action = tool.chat_action(tool_input, thread_files(state))
            handle.trace.tool_started(str(use.get("id", "")), name, status, action)
        handle.action_changed.set()

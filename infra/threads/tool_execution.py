"""One client tool call of a turn, executed: its context, its run within the tool's timeout,
the files it made stored in the thread's file store, and its outcome event
(``tool_call_completed`` / ``tool_call_failed``) with the file events it caused. The order of
the durable facts around it is :mod:`infra.threads.tool_runtime`'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from actors.thread import file_events, tool_events
from actors.thread.state import RunningTurn, ThreadState, ToolCallNote
from actors.thread.tool_calls import client_tool_uses
from actors.thread.tools.base import (
    FilesSource,
    ModelPort,
    ToolContext,
    ToolFailure,
    ToolResult,
    thread_files,
)
from actors.thread.tools.produced import stored_kind
from actors.thread.tools.providers import Providers
from actors.thread.tools.registry import ToolRegistry
from events.catalog import ThreadEvent
from events.files import FileGenerated
from events.tools import ToolCallCompleted, ToolCallFailed

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ToolTurn:
    """A turn's tool-side bookkeeping in this process.

    ``spent`` is what this turn has charged so far (priced like the ledger will): the
    balance view may not show it yet, so a paid tool is checked against
    ``min(view, balance at start - spent)``. ``blocks`` keeps non-text result content
    (images) for the next request; ``status`` the lines of the calls running now.
    """

    balance_at_start: Decimal | None = None
    spent: Decimal = Decimal(0)
    blocks: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    work: float = 0.0
    """Seconds the longest call of the last step spent in its executor (the tool's work)."""
    latest: ThreadState | None = None
    """The thread's state after this turn's latest tool commit (files made by earlier calls
    of the turn are in it, so a later call can deliver them)."""


class ToolExecutor:
    """Runs one call to its outcome; the durable commits around it are the runtime's."""

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        claude: ModelPort,
        files: FilesSource,
        providers: Providers,
        clock: Callable[[], float],
        now: Callable[[], datetime],
    ) -> None:
        self.registry = registry
        self.claude = claude
        self.files = files
        self.providers = providers
        self.clock = clock
        self.now = now

    async def execute(
        self,
        running: RunningTurn,
        state: ThreadState,
        turn: ToolTurn,
        note: ToolCallNote,
        balance: Decimal | None,
        at: datetime,
    ) -> tuple[ToolCallCompleted | ToolCallFailed, list[ThreadEvent]]:
        """The call's outcome, and the file events it caused (generated, delivered)."""
        tool = self.registry.get(note.tool_name)
        started = self.clock()

        def fail(error_class: str, message: str, **extra: Any) -> ToolCallFailed:
            return tool_events.failed(
                running,
                tool_use_id=note.tool_use_id,
                tool_name=note.tool_name,
                error_class=error_class,
                message=message,
                at=at,
                duration_ms=int((self.clock() - started) * 1000),
                **extra,
            )

        if tool is None or tool.run is None:
            return fail("not_found", f"there is no tool named {note.tool_name!r}"), []
        refusal = tool_events.paid_tool_refusal(tool, balance)
        if refusal is not None:
            return fail("insufficient_balance", refusal), []
        block = use_block(running, note.tool_use_id)
        raw = block.get("input") if block else None
        tool_input: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        turn.status[note.tool_use_id] = tool.status_line(tool_input)
        ctx = self._context(running, state, turn, note, balance, at)
        work_started = self.clock()
        try:
            async with asyncio.timeout(tool.timeout):
                result = await tool.run(tool_input, ctx)
            generated = await self._store_files(ctx, running, note, result, at)
        except ToolFailure as exc:
            return fail(exc.error_class, exc.message, quantities=exc.quantities), []
        except TimeoutError:
            return fail("timeout", f"no result within {tool.timeout:g} s"), []
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("tool crashed", extra={"fields": {"tool": note.tool_name}})
            return fail("internal", f"the tool crashed: {type(exc).__name__}: {exc}"), []
        finally:
            turn.work = max(turn.work, self.clock() - work_started)
        delivered = [
            file_events.file_delivered(
                running, tool_use_id=note.tool_use_id, delivered=d, at=self.now()
            )
            for d in result.delivered
        ]
        if result.is_error:
            failed = fail(result.error_class, result.output, quantities=result.quantities)
            return failed, [*generated, *delivered]
        if result.blocks:
            turn.blocks[note.tool_use_id] = result.blocks
        completed = tool_events.completed(
            running,
            tool_use_id=note.tool_use_id,
            tool_name=note.tool_name,
            output=file_events.with_files(result.output, generated),
            duration_ms=int((self.clock() - started) * 1000),
            quantities=result.quantities,
            at=at,
            file_ids=(*result.file_ids, *(g.file_id for g in generated)),
            sandbox_id=result.sandbox_id,
        )
        return completed, [*generated, *delivered]

    async def _store_files(
        self,
        ctx: ToolContext,
        running: RunningTurn,
        note: ToolCallNote,
        result: ToolResult,
        at: datetime,
    ) -> list[FileGenerated]:
        """Store the files a call produced in the thread's file store; their
        ``thread.file_generated`` events. A store failure fails the call, with what it
        consumed (the work was done)."""
        events = []
        for new_file in result.new_files:
            try:
                stored = await ctx.file_store.put(
                    new_file.data,
                    name=new_file.name,
                    mime_type=new_file.mime_type,
                    kind=stored_kind(new_file.mime_type),
                )
            except ToolFailure as exc:
                message = f"the files it made could not be stored: {exc.message}"
                raise ToolFailure(exc.error_class, message, quantities=result.quantities) from exc
            events.append(
                file_events.file_generated(
                    running,
                    tool_use_id=note.tool_use_id,
                    tool_name=note.tool_name,
                    stored=stored,
                    preview=new_file.preview,
                    at=at,
                )
            )
        return events

    def _context(
        self,
        running: RunningTurn,
        state: ThreadState,
        turn: ToolTurn,
        note: ToolCallNote,
        balance: Decimal | None,
        at: datetime,
    ) -> ToolContext:
        def progress(line: str, key: str = note.tool_use_id) -> None:
            turn.status[key] = line

        return ToolContext(
            thread_key=state.key,
            user_id=running.started.user_id,
            turn_id=running.turn_id,
            tool_use_id=note.tool_use_id,
            model=running.started.model,
            history=state.history,
            files=thread_files(turn.latest or state),
            claude=self.claude,
            file_store=self.files.for_thread(state.key, running.started.user_id),
            balance=balance,
            now=at,
            progress=progress,
            providers=self.providers,
            chat_id=running.chat_id,
            message_thread_id=running.message_thread_id,
        )


def use_block(running: RunningTurn, tool_use_id: str) -> Mapping[str, Any] | None:
    for message in reversed(running.transcript):
        for block in client_tool_uses(message["content"]):
            if block.get("id") == tool_use_id:
                return block
    return None

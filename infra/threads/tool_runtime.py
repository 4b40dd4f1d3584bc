"""Running the client tool calls of a turn: balance policy, parallel execution with
timeouts, one durable event per outcome, charges through the ledger.

Order of durable facts (each a commit of state + outbox, see ``infra/threads/actor.py``):

1. the step's ``assistant_message_completed`` (its content blocks included) together with a
   ``tool_call_requested`` per ``tool_use`` block, and the step's usage charge;
2. each call's ``tool_call_completed`` / ``tool_call_failed`` and its charge, as soon as that
   call ends (the calls of one step run concurrently, each within its tool's timeout);
3. the next model call, its request rebuilt from the running turn.

A crash anywhere leaves the running turn saying which calls finished. The resumed turn never
runs a finished call again; an unfinished one is run once more (``attempt`` 2) if its tool's
rule is ``rerun_once`` and it was not already re-run, else failed as ``interrupted``.
``/stop`` or a superseding message cancels the running calls (``asyncio`` cancellation); they
are reported failed as ``cancelled``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from actors.billing.pricing import PricingError, price
from actors.thread import file_events, tool_events
from actors.thread.state import RunningTurn, ThreadState, ToolCallNote
from actors.thread.tool_calls import client_tool_uses, unfinished_calls
from actors.thread.tools.base import (
    FilesSource,
    ModelPort,
    ToolContext,
    ToolFailure,
    ToolResult,
    thread_files,
)
from actors.thread.tools.produced import stored_kind
from actors.thread.tools.providers import UNAVAILABLE, Providers
from actors.thread.tools.registry import ToolRegistry
from events.billing import UsageChargeRequested
from events.catalog import BillingCommand, ThreadEvent
from events.envelope import utc_now
from events.files import FileGenerated
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested
from infra.threads.metrics import TOOL_CALLS, TOOL_SECONDS
from infra.threads.shield import shielded
from infra.views import BalanceReader

log = logging.getLogger(__name__)


class Commit(Protocol):
    """Make events (and their charges) durable; returns the thread's state after them.

    With ``publish_later`` only the state write (which holds them as the outbox) is waited
    for; the records are published in the background and the thread's next commit waits for
    that first (see ``ThreadActor._commit``)."""

    def __call__(
        self,
        events: Sequence[ThreadEvent],
        charges: Sequence[BillingCommand],
        /,
        *,
        publish_later: bool = False,
    ) -> Awaitable[ThreadState]: ...


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


def charge_cost(charge: UsageChargeRequested) -> Decimal:
    try:
        return price(
            at=charge.occurred_at,
            model=charge.model,
            usage=charge.usage,
            tool_quantities=charge.tool_quantities,
        ).total
    except PricingError:
        return Decimal(0)


class ToolRuntime:
    def __init__(
        self,
        registry: ToolRegistry,
        *,
        claude: ModelPort,
        files: FilesSource,
        balances: BalanceReader | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utc_now,
        providers: Providers = UNAVAILABLE,
    ) -> None:
        self.registry = registry
        self.claude = claude
        self.files = files
        self.balances = balances
        self.providers = providers
        self.clock = clock
        self.now = now

    def definitions(self, model: str | None = None) -> list[dict[str, Any]]:
        return self.registry.definitions(model)

    # ------------------------------------------------------------------ requests

    def requests(
        self, running: RunningTurn, step: int, content: Sequence[Mapping[str, Any]]
    ) -> list[ToolCallRequested]:
        """One ``tool_call_requested`` per client ``tool_use`` block of a step."""
        events: list[ToolCallRequested] = []
        for block in client_tool_uses(content):
            name = str(block.get("name", ""))
            raw = block.get("input")
            events.append(
                tool_events.requested(
                    running,
                    step=step,
                    tool_use_id=str(block.get("id", "")),
                    tool_name=name,
                    tool_input=raw if isinstance(raw, Mapping) else {},
                    tool=self.registry.get(name),
                )
            )
        return events

    @staticmethod
    def track(turn: ToolTurn, charges: Sequence[BillingCommand]) -> None:
        for charge in charges:
            if isinstance(charge, UsageChargeRequested):
                turn.spent += charge_cost(charge)

    # ------------------------------------------------------------------ crash resume

    async def settle_interrupted(self, running: RunningTurn, commit: Commit) -> RunningTurn:
        """Calls a crash interrupted: re-request those whose rule allows one more run, fail
        the others as ``interrupted``."""
        events: list[ThreadEvent] = []
        for note in unfinished_calls(running):
            tool = self.registry.get(note.tool_name)
            if tool is not None and tool.on_interrupt == "rerun_once" and note.attempt < 2:
                block = _use_block(running, note.tool_use_id)
                raw = block.get("input") if block else None
                events.append(
                    tool_events.requested(
                        running,
                        step=note.step,
                        tool_use_id=note.tool_use_id,
                        tool_name=note.tool_name,
                        tool_input=raw if isinstance(raw, Mapping) else {},
                        tool=tool,
                        attempt=note.attempt + 1,
                    )
                )
                continue
            why = (
                "the call was interrupted by a restart and is not repeated (it may have had "
                "an effect already)"
                if tool is None or tool.on_interrupt == "fail"
                else "the call was interrupted by a restart again"
            )
            failed = tool_events.failed(
                running,
                tool_use_id=note.tool_use_id,
                tool_name=note.tool_name,
                error_class="interrupted",
                message=why,
                at=self.now(),
            )
            TOOL_CALLS.labels(note.tool_name, "interrupted").inc()
            events.append(failed)
        if not events:
            return running
        state = await commit(events, [])
        return state.running or running

    async def cancel_pending(self, running: RunningTurn, commit: Commit, reason: str) -> None:
        """Report the calls still running when the turn was stopped as ``cancelled``."""
        latest = await commit([], [])
        if latest.running is not None and latest.running.turn_id == running.turn_id:
            running = latest.running
        events: list[ThreadEvent] = [
            tool_events.failed(
                running,
                tool_use_id=note.tool_use_id,
                tool_name=note.tool_name,
                error_class="cancelled",
                message=f"stopped ({reason})",
                at=self.now(),
            )
            for note in unfinished_calls(running)
        ]
        if events:
            await commit(events, [])

    # ------------------------------------------------------------------ running

    async def run_pending(
        self, running: RunningTurn, state: ThreadState, turn: ToolTurn, commit: Commit
    ) -> RunningTurn:
        """Run every unfinished call of the running turn concurrently; return the turn as it
        stands once each has a durable outcome."""
        notes = unfinished_calls(running)
        if not notes:
            return running
        balance = await self._balance(running, turn, notes)
        turn.work = 0.0
        serial = [n for n in notes if self._serial(n.tool_name)]

        async def in_order() -> list[ThreadState]:
            # one after another, in the order of the step's tool_use blocks
            return [await self._one(running, state, turn, n, balance, commit) for n in serial]

        async def alone(note: ToolCallNote) -> list[ThreadState]:
            return [await self._one(running, state, turn, note, balance, commit)]

        runs = [alone(note) for note in notes if note not in serial]
        groups = await asyncio.gather(*runs, *([in_order()] if serial else []))
        states = [s for group in groups for s in group]
        # commits are serialised: the newest state has the most finished calls
        latest = max(
            (s.running for s in states if s.running is not None),
            key=lambda r: sum(c.finished for c in r.tool_calls),
            default=None,
        )
        return latest if latest is not None else running

    def _serial(self, name: str) -> bool:
        tool = self.registry.get(name)
        return tool is not None and tool.serial

    async def _balance(
        self, running: RunningTurn, turn: ToolTurn, notes: Sequence[ToolCallNote]
    ) -> Decimal | None:
        # Every call gets the balance (an in-memory view): a free tool may still refuse its
        # paid part (preview_file of an image) on a negative balance.
        view = await self.balances.balance(running.started.user_id) if self.balances else None
        if turn.balance_at_start is None:
            return view
        own = turn.balance_at_start - turn.spent
        return own if view is None else min(view, own)

    async def _one(
        self,
        running: RunningTurn,
        state: ThreadState,
        turn: ToolTurn,
        note: ToolCallNote,
        balance: Decimal | None,
        commit: Commit,
    ) -> ThreadState:
        started = self.clock()
        at = self.now()
        event, files = await self._execute(running, state, turn, note, balance, at)
        duration = self.clock() - started
        TOOL_SECONDS.labels(note.tool_name).observe(duration)
        outcome = "completed" if isinstance(event, ToolCallCompleted) else event.error_class
        TOOL_CALLS.labels(note.tool_name, outcome).inc()
        charge = tool_events.tool_charge(event)
        turn.status.pop(note.tool_use_id, None)
        # durable before the next model call (a finished call is never run again); the
        # publish overlaps that call
        after: ThreadState = await shielded(
            commit([*files, event], [charge] if charge else [], publish_later=True)
        )
        turn.latest = after
        return after

    async def _execute(
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
        block = _use_block(running, note.tool_use_id)
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


def _use_block(running: RunningTurn, tool_use_id: str) -> Mapping[str, Any] | None:
    for message in reversed(running.transcript):
        for block in client_tool_uses(message["content"]):
            if block.get("id") == tool_use_id:
                return block
    return None

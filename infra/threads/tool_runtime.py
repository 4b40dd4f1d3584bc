"""Running the client tool calls of a turn: balance policy, parallel execution with
timeouts, one durable event per outcome, charges through the ledger.

Order of durable facts (each a commit of state + outbox, see ``infra/threads/commits.py``):

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
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from actors.billing.pricing import PricingError, price
from actors.thread import tool_events
from actors.thread.state import RunningTurn, ThreadState, ToolCallNote
from actors.thread.tool_calls import client_tool_uses, unfinished_calls
from actors.thread.tools.base import (
    FilesSource,
    ModelPort,
)
from actors.thread.tools.providers import UNAVAILABLE, Providers
from actors.thread.tools.registry import ToolRegistry
from events.billing import UsageChargeRequested
from events.catalog import BillingCommand, ThreadEvent
from events.envelope import utc_now
from events.tools import ToolCallCompleted, ToolCallRequested
from infra.threads.metrics import TOOL_CALLS, TOOL_SECONDS
from infra.threads.shield import shielded
from infra.threads.store_port import Commit
from infra.threads.tool_execution import ToolExecutor, ToolTurn, use_block
from infra.views import BalanceReader

log = logging.getLogger(__name__)


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
        self.balances = balances
        self.clock = clock
        self.now = now
        self.executor = ToolExecutor(
            registry, claude=claude, files=files, providers=providers, clock=clock, now=now
        )

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
                block = use_block(running, note.tool_use_id)
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
        event, files = await self.executor.execute(running, state, turn, note, balance, at)
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

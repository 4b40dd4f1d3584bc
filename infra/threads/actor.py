"""The thread actor's shell: per-thread mailboxes, durable commits, turns as tasks.

Ordering and concurrency
    Every thread key has a mailbox (:mod:`infra.threads.mailbox`) served by its own task: one
    key's commands are handled strictly in order, different keys concurrently, even on one
    partition. A turn runs as a separate task, so the mailbox keeps reading: ``/stop`` or a
    new message cancels it within milliseconds (``asyncio`` cancellation).

Durability (at-least-once input, idempotent output)
    A commit (:mod:`infra.threads.commits`) evolves the state with the decided events, writes
    the state *with those records as an outbox* to the changelog-backed store and waits for
    the broker's ack, then publishes the records and waits again; only then is the outbox
    cleared (lazily, with the next write). An inbox command is acked only after everything it
    caused is durable.

    * crash before the state write: the command is redelivered and decided again (same
      derived ids);
    * crash between the state write and the publish: the restarted worker finds the outbox
      and republishes it byte for byte (consumers deduplicate by id);
    * crash during a turn (``TurnStarted`` durable, no terminal event): the command is
      redelivered (never acked), the state shows the interrupted turn, and it is re-run once
      (same turn id and event ids) or, if it was already retried or had finished a step,
      completed/failed exactly once (:mod:`infra.threads.recovery`). A turn in its tool loop
      (steps that ended in ``tool_use``/``pause_turn``) is resumed once from its events
      instead: finished tool calls are not run again, an interrupted one is re-run once or
      failed per its tool's rule (``infra/threads/tool_runtime.py``);
    * crash after the events, before the ack: the command id is in the processed set, so
      the redelivery is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

from actors.texts import Language
from actors.thread.decide import Notice, decide, decide_messages, preemption, turn_id_for
from actors.thread.errors import queued_message
from actors.thread.state import ThreadState
from events.catalog import BillingCommand, ThreadEvent
from events.thread import (
    StopRequested,
    UserMessageReceived,
)
from infra.logs import thread_key_var, user_id_var
from infra.threads.broker_errors import transient
from infra.threads.commits import ThreadCommits
from infra.threads.facts import ActorConfig, FactsReader
from infra.threads.generation_slots import GenerationSlots
from infra.threads.holds import TurnHolds
from infra.threads.mailbox import InboxItem, Mailbox, more_of_batch
from infra.threads.notices import NoticeSender
from infra.threads.recovery import end_interrupted, may_rerun, rerun
from infra.threads.store_port import Commit, RecordSink, StoredThread, ThreadStore
from infra.threads.turn import TurnRunner
from infra.threads.turn_state import TurnHandle
from infra.views import BalanceReader, HoldsNotes, PreferencesReader

log = logging.getLogger(__name__)

RETRY_FIRST: Final = 0.5
RETRY_MAX: Final = 10.0
"""Pauses before a command that met an unavailable broker is handled again (doubling)."""


class ThreadActor:
    """Dispatches inbox commands to per-key mailboxes; see the module docstring."""

    def __init__(
        self,
        *,
        store: ThreadStore,
        sink: RecordSink,
        runner: TurnRunner,
        slots: GenerationSlots,
        balances: BalanceReader,
        preferences: PreferencesReader,
        config: ActorConfig | None = None,
    ) -> None:
        self.runner = runner
        self.slots = slots
        self.balances = balances
        self.preferences = preferences
        self.config = config or ActorConfig()
        self.facts = FactsReader(balances, preferences, self.config)
        self.commits = ThreadCommits(
            store, sink, self.config.topic_prefix, wait=self.config.commit_wait
        )
        self.mailboxes: dict[str, Mailbox] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self.notices = NoticeSender(runner.telegram, lambda: self.config.clock())

    @property
    def store(self) -> ThreadStore:
        return self.commits.store

    @store.setter
    def store(self, store: ThreadStore) -> None:
        """A restarted store (tests of a worker restart swap it in)."""
        self.commits.store = store

    # ------------------------------------------------------------------ intake

    def submit(self, item: InboxItem) -> None:
        """Queue a command for its thread; never blocks."""
        key = item.command.key
        mailbox = self.mailboxes.get(key)
        if mailbox is None:
            mailbox = self.mailboxes[key] = Mailbox(key, item.partition)
        mailbox.partition = item.partition
        mailbox.items.append(item)
        mailbox.wakeup.set()
        if mailbox.task is None or mailbox.task.done():
            mailbox.task = asyncio.create_task(self._serve(mailbox), name=f"thread:{key}")

    async def stop(self, partitions: set[int] | None = None) -> None:
        """Abandon mailboxes (all, or those of ``partitions``) without acking: their
        commands are redelivered to whoever owns the partition next."""
        doomed = [
            m for m in self.mailboxes.values() if partitions is None or m.partition in partitions
        ]
        tasks: list[asyncio.Task[Any]] = []
        for mailbox in doomed:
            self.mailboxes.pop(mailbox.key, None)
            for task in (mailbox.task, mailbox.turn.task if mailbox.turn else None):
                if task is not None and not task.done():
                    task.cancel()
                    tasks.append(task)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ------------------------------------------------------------------ mailbox

    async def _serve(self, mailbox: Mailbox) -> None:
        thread_key_var.set(mailbox.key)
        pause = RETRY_FIRST
        while mailbox.items:
            item = mailbox.items.popleft()
            try:
                await self._handle(mailbox, item)
                pause = RETRY_FIRST
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if transient(exc):
                    # The broker did not take the commit within its wait (stopped, electing
                    # leaders): handle the command again once it is back, not after the next
                    # restart (a command decides the same ids again; what was durable is
                    # skipped).
                    log.warning("broker unavailable, command retried in %.1f s: %r", pause, exc)
                    mailbox.items.appendleft(item)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_MAX)
                    continue
                # Not acked: the command comes back after a restart. Keep serving others.
                log.exception(
                    "command failed", extra={"fields": {"type": type(item.command).__name__}}
                )
        mailbox.wakeup.clear()
        self._maybe_forget(mailbox)

    def _maybe_forget(self, mailbox: Mailbox) -> None:
        if (
            not mailbox.items
            and mailbox.turn is None
            and self.mailboxes.get(mailbox.key) is mailbox
            and (
                mailbox.task is None
                or mailbox.task.done()
                or mailbox.task is asyncio.current_task()
            )
        ):
            del self.mailboxes[mailbox.key]

    def _load(self, key: str) -> StoredThread:
        return self.commits.load(key)

    async def _handle(self, mailbox: Mailbox, item: InboxItem) -> None:
        command = item.command
        stored = self._load(mailbox.key)
        if stored.outbox:
            await self.commits.commit(mailbox, ())  # republish what a crash left unpublished
        state = self._load(mailbox.key).state
        if state.running is not None and mailbox.turn is None:
            await self._recover(mailbox, state)
            state = self._load(mailbox.key).state
        if state.has_processed(command.id):
            self._ack_after_turn(mailbox, item.ack)
            return
        reason = preemption(state, command)
        if reason is not None and mailbox.turn is not None:
            await self._cancel_turn(mailbox, reason)
            if isinstance(command, StopRequested):
                await self.commits.commit(mailbox, (), processed=[command.id])
                item.ack()
                return
            state = self._load(mailbox.key).state
        if isinstance(command, UserMessageReceived):
            batch = [item, *await more_of_batch(mailbox, item)]
            try:
                await self._messages(mailbox, batch, state)
            except Exception:
                mailbox.items.extendleft(reversed(batch[1:]))  # handled again, together
                raise
            return
        facts = await self.facts.for_command(command)
        decision = decide(state, command, facts)
        await self.commits.commit(mailbox, decision.events, processed=[command.id])
        await self._send_notices(mailbox, decision.notices)
        item.ack()

    def _ack_after_turn(self, mailbox: Mailbox, ack: Callable[[], None]) -> None:
        if mailbox.turn is not None:
            mailbox.deferred_acks.append(ack)
        else:
            ack()

    # ------------------------------------------------------------------ messages -> turn

    async def _messages(self, mailbox: Mailbox, batch: list[InboxItem], state: ThreadState) -> None:
        commands = [i.command for i in batch if isinstance(i.command, UserMessageReceived)]
        fresh = [c for c in commands if not state.has_processed(c.id)]
        user_id = commands[0].message.sender.user_id
        user_id_var.set(str(user_id))
        turn_id = turn_id_for(fresh[0].id)
        acquired = await self.slots.acquire(user_id, turn_id)
        code = commands[0].message.sender.language_code
        if not acquired:
            language = await self.facts.language(user_id, code)
            acquired = await self._wait_in_line(mailbox, user_id, turn_id, fresh[-1], language)
        others = 0 if acquired else self.slots.limit
        facts = await self.facts.for_message(user_id, code, other_running=others)
        decision = decide_messages(state, fresh, facts)
        if decision.start is None and acquired:
            await self.slots.release(user_id, turn_id)
        new_state = await self.commits.commit(
            mailbox,
            decision.events,
            processed=[c.id for c in commands],
            publish_later=decision.start is not None,
        )
        if decision.start is None or new_state.running is None:
            await self._send_notices(mailbox, decision.notices)
            for item in batch:
                item.ack()
            return
        if decision.notices:
            self._spawn(self._send_notices(mailbox, decision.notices))
        handle = TurnHandle(
            running=new_state.running,
            state=new_state,
            inputs=tuple(c.message for c in fresh),
            name_topic=decision.name_topic,
        )
        handle.timings.received_at = batch[0].received_at
        handle.tools.balance_at_start = facts.balance
        handle.acks.extend(i.ack for i in batch)
        self._launch(mailbox, handle)

    def _launch(self, mailbox: Mailbox, handle: TurnHandle) -> None:
        mailbox.turn = handle
        handle.holds = TurnHolds(self.commits.publish_billing)
        if isinstance(self.balances, HoldsNotes):  # this worker's checks count them at once
            handle.holds.note = self.balances.note
        handle.task = asyncio.create_task(
            self._turn_main(mailbox, handle), name=f"turn:{handle.running.turn_id}"
        )

    async def _turn_main(self, mailbox: Mailbox, handle: TurnHandle) -> None:
        thread_key_var.set(mailbox.key)
        user_id_var.set(str(handle.user_id))
        refresher = asyncio.create_task(self._refresh_slot(handle))

        try:
            await self.runner.run(handle, self._committer(mailbox))
        finally:
            refresher.cancel()
            if mailbox.turn is handle:
                mailbox.turn = None
            if handle.finished:
                await self.slots.release(handle.user_id, handle.running.turn_id)
                for ack in [*handle.acks, *mailbox.deferred_acks]:
                    ack()
                mailbox.deferred_acks.clear()
            self._maybe_forget(mailbox)

    async def _refresh_slot(self, handle: TurnHandle) -> None:
        while True:
            await asyncio.sleep(max(5.0, self.slots.ttl / 3))
            await self.slots.refresh(handle.user_id, handle.running.turn_id)

    async def _cancel_turn(self, mailbox: Mailbox, reason: str) -> None:
        """Cancel the running turn for ``reason`` and wait until it ended with its event
        (also a turn launched a moment ago, e.g. one just recovered after a crash)."""
        handle = mailbox.turn
        if handle is None or handle.task is None:
            return
        await _begun(handle.task)
        if not handle.finalizing:
            handle.cancel_reason = reason
            handle.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(handle.task)

    # ------------------------------------------------------------------ recovery

    async def _recover(self, mailbox: Mailbox, state: ThreadState) -> None:
        """A turn is marked running but no task runs it here: the worker that ran it died
        (or lost the partition). Re-run it once, else finish it exactly once."""
        running = state.running
        assert running is not None
        log.warning(
            "recovering an interrupted turn",
            extra={"fields": {"turn_id": running.turn_id, "attempt": running.attempt}},
        )
        if may_rerun(running):
            retried, handle = rerun(state)
            await self.commits.replace_state(mailbox, retried)
            await self.slots.acquire(running.started.user_id, running.turn_id)
            self._launch(mailbox, handle)
            return
        await end_interrupted(running, self._committer(mailbox), self.runner.telegram)
        await self.slots.release(running.started.user_id, running.turn_id)

    # ------------------------------------------------------------------ commits

    def _committer(self, mailbox: Mailbox) -> Commit:
        """The mailbox's commit, for a turn and the recovery."""

        async def commit(
            events: Sequence[ThreadEvent],
            charges: Sequence[BillingCommand],
            /,
            *,
            publish_later: bool = False,
        ) -> ThreadState:
            return await self.commits.commit(mailbox, events, charges, publish_later=publish_later)

        return commit

    # ------------------------------------------------------------------ facts and notices

    async def _wait_in_line(
        self,
        mailbox: Mailbox,
        user_id: int,
        turn_id: str,
        last: UserMessageReceived,
        language: Language,
    ) -> bool:
        """The user runs the maximum of generations: tell them, then wait for a free slot
        (up to ``queue_wait``; a /stop in this thread ends the wait)."""
        if self.config.queue_wait <= 0:
            return False
        minutes = max(1, round(self.config.queue_wait / 60))
        notice = Notice(
            queued_message(language, self.slots.limit, minutes), last.message.message_id
        )
        await self._send_notices(mailbox, [notice])
        return await self.slots.wait_for_slot(
            user_id,
            turn_id,
            max_wait=self.config.queue_wait,
            give_up=lambda: any(isinstance(i.command, StopRequested) for i in mailbox.items),
        )

    async def _send_notices(self, mailbox: Mailbox, notices: Sequence[Notice]) -> None:
        if notices:
            state = self._load(mailbox.key).state
            await self.notices.send(mailbox.key, state, notices)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def _begun(task: asyncio.Task[None]) -> None:
    """Wait until ``task`` has taken its first step. A task cancelled before that never runs
    its coroutine at all: the turn would end without its terminal event, its slot and acks
    never released. It happens when a recovered turn is launched and the very next command
    of the mailbox (the newer message or /stop that arrived while no worker ran) preempts it
    before the loop has run it once."""
    coro = task.get_coro()
    if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
        await asyncio.sleep(0)  # its first step was queued when it was created: it runs first

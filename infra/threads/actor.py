"""The thread actor's shell: per-thread mailboxes, durable commits, turns as tasks.

Ordering and concurrency
    Every thread key has a mailbox served by its own task: one key's commands are handled
    strictly in order, different keys concurrently, even on one partition. A turn runs as a
    separate task, so the mailbox keeps reading: ``/stop`` or a new message cancels it
    within milliseconds (``asyncio`` cancellation).

Durability (at-least-once input, idempotent output)
    A commit evolves the state with the decided events, writes the state *with those
    records as an outbox* to the changelog-backed store and waits for the broker's ack, then
    publishes the records and waits again; only then is the outbox cleared (lazily, with the
    next write). An inbox command is acked only after everything it caused is durable.

    * crash before the state write: the command is redelivered and decided again (same
      derived ids);
    * crash between the state write and the publish: the restarted worker finds the outbox
      and republishes it byte for byte (consumers deduplicate by id);
    * crash during a turn (``TurnStarted`` durable, no terminal event): the command is
      redelivered (never acked), the state shows the interrupted turn, and it is re-run once
      (same turn id and event ids) or, if it was already retried or had finished a step,
      completed/failed exactly once. A turn in its tool loop (steps that ended in
      ``tool_use``/``pause_turn``) is resumed once from its events instead: finished tool
      calls are not run again, an interrupted one is re-run once or failed per its tool's
      rule (``infra/threads/tool_runtime.py``);
    * crash after the events, before the ack: the command id is in the processed set, so
      the redelivery is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import msgspec
from aiokafka.errors import KafkaError, KafkaTimeoutError

from actors.thread.decide import (
    Facts,
    Notice,
    decide,
    decide_messages,
    preemption,
    turn_completed,
    turn_failed,
    turn_id_for,
    usage_charge,
)
from actors.thread.errors import INTERRUPTED_MESSAGE, QUEUED_MESSAGE, FailureVerdict
from actors.thread.evolve import evolve_all
from actors.thread.models import DEFAULT_MODEL
from actors.thread.refusal_throttle import record_refusal, refusal_due
from actors.thread.state import ThreadState, initial_state
from actors.thread.tool_events import interrupted_calls
from events.catalog import (
    BILLING_COMMANDS,
    THREAD_EVENTS,
    BillingCommand,
    ThreadEvent,
    ThreadInboxCommand,
    TopicSpec,
    with_prefix,
)
from events.codec import codec_for
from events.messages import Attachment, TelegramUser, UserMessage
from events.thread import StopRequested, UserMessageReceived
from events.usage import ModelId, Usage
from infra.logs import thread_key_var, user_id_var
from infra.threads.generation_slots import GenerationSlots
from infra.threads.holds import TurnHolds, interrupted_release
from infra.threads.pricing_watch import note_unpriced
from infra.threads.telegram_output import TelegramOutputError
from infra.threads.turn import TurnHandle, TurnRunner, shielded
from infra.views import BalanceReader, HoldsNotes, PreferencesReader

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 2
ALBUM_WAIT: Final = 0.3
SPLIT_TEXT_WAIT: Final = 0.25
SPLIT_TEXT_MIN_CHARS: Final = 3500
BALANCE_WAIT: Final = 2.0
QUEUE_WAIT: Final = 300.0
RETRY_FIRST: Final = 0.5
RETRY_MAX: Final = 10.0
"""Pauses before a command that met an unavailable broker is handled again (doubling)."""


class OutboxRecord(msgspec.Struct, frozen=True):
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class StoredThread(msgspec.Struct, frozen=True):
    state: ThreadState
    outbox: tuple[OutboxRecord, ...] = ()


class ThreadStore(Protocol):
    """The changelog-backed table of thread states (or an in-memory fake)."""

    def load(self, key: str) -> StoredThread | None: ...

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        """Store and wait until the write is durable."""
        ...

    def save_local(self, key: str, stored: StoredThread) -> None:
        """Store in memory only (made durable by the next :meth:`save`)."""
        ...


class RecordSink(Protocol):
    async def send_all(self, records: Sequence[OutboxRecord]) -> None:
        """Produce the records (in order per topic and key) and wait for every ack."""
        ...


@dataclass(slots=True)
class InboxItem:
    command: ThreadInboxCommand
    partition: int
    ack: Callable[[], None]
    received_at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class Mailbox:
    key: str
    partition: int
    items: deque[InboxItem] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None
    turn: TurnHandle | None = None
    publishing: asyncio.Task[None] | None = None
    deferred_acks: list[Callable[[], None]] = field(default_factory=list)


@dataclass(slots=True)
class ActorConfig:
    topic_prefix: str = ""
    thinking_budget: int | None = None
    balance_wait: float = BALANCE_WAIT
    default_model: ModelId = DEFAULT_MODEL
    queue_wait: float = QUEUE_WAIT
    """How long a request beyond the concurrency limit waits in line for a slot."""
    clock: Callable[[], float] = time.monotonic
    """Seconds, for pacing the balance refusal (:mod:`actors.thread.refusal_throttle`)."""


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
        self.store = store
        self.sink = sink
        self.runner = runner
        self.slots = slots
        self.balances = balances
        self.preferences = preferences
        self.config = config or ActorConfig()
        self._events_topic: TopicSpec[Any] = with_prefix(THREAD_EVENTS, self.config.topic_prefix)
        self._billing_topic: TopicSpec[Any] = with_prefix(
            BILLING_COMMANDS, self.config.topic_prefix
        )
        self.mailboxes: dict[str, Mailbox] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._refusals_sent: dict[int, float] = {}

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
                if _transient(exc):
                    # The broker cannot take the commit now (stopped, electing leaders):
                    # handle the command again once it is back, not after the next restart.
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
        return self.store.load(key) or StoredThread(initial_state(key))

    async def _handle(self, mailbox: Mailbox, item: InboxItem) -> None:
        command = item.command
        stored = self._load(mailbox.key)
        if stored.outbox:
            await self._commit(mailbox, ())  # republish what a crash left unpublished
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
                await self._commit(mailbox, (), processed=[command.id])
                item.ack()
                return
            state = self._load(mailbox.key).state
        if isinstance(command, UserMessageReceived):
            batch = [item, *await self._more_of_batch(mailbox, item)]
            try:
                await self._messages(mailbox, batch, state)
            except Exception:
                mailbox.items.extendleft(reversed(batch[1:]))  # handled again, together
                raise
            return
        facts = self._facts_without_balance(command)
        decision = decide(state, command, facts)
        await self._commit(mailbox, decision.events, processed=[command.id])
        await self._send_notices(mailbox, decision.notices)
        item.ack()

    def _ack_after_turn(self, mailbox: Mailbox, ack: Callable[[], None]) -> None:
        if mailbox.turn is not None:
            mailbox.deferred_acks.append(ack)
        else:
            ack()

    async def _more_of_batch(self, mailbox: Mailbox, first: InboxItem) -> list[InboxItem]:
        """Album parts (same media group) and a long text's continuation form one turn."""
        assert isinstance(first.command, UserMessageReceived)
        message = first.command.message
        if message.media_group_id:
            wait = ALBUM_WAIT
        elif len(message.text) >= SPLIT_TEXT_MIN_CHARS:
            wait = SPLIT_TEXT_WAIT
        else:
            return []
        batch: list[InboxItem] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        last = message
        while True:
            if mailbox.items:
                nxt = mailbox.items[0].command
                if not (isinstance(nxt, UserMessageReceived) and _continues(last, nxt.message)):
                    return batch
                batch.append(mailbox.items.popleft())
                last = nxt.message
                deadline = loop.time() + wait
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return batch
            mailbox.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(mailbox.wakeup.wait(), remaining)

    # ------------------------------------------------------------------ messages -> turn

    async def _messages(self, mailbox: Mailbox, batch: list[InboxItem], state: ThreadState) -> None:
        commands = [i.command for i in batch if isinstance(i.command, UserMessageReceived)]
        fresh = [c for c in commands if not state.has_processed(c.id)]
        user_id = commands[0].message.sender.user_id
        user_id_var.set(str(user_id))
        turn_id = turn_id_for(fresh[0].id)
        acquired = await self.slots.acquire(user_id, turn_id)
        if not acquired:
            acquired = await self._wait_in_line(mailbox, user_id, turn_id, fresh[-1])
        facts = await self._facts(user_id, other_running=0 if acquired else self.slots.limit)
        decision = decide_messages(state, fresh, facts)
        if decision.start is None and acquired:
            await self.slots.release(user_id, turn_id)
        new_state = await self._commit(
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
        handle.holds = TurnHolds(self._publish_billing)
        if isinstance(self.balances, HoldsNotes):  # this worker's checks count them at once
            handle.holds.note = self.balances.note
        handle.task = asyncio.create_task(
            self._turn_main(mailbox, handle), name=f"turn:{handle.running.turn_id}"
        )

    async def _turn_main(self, mailbox: Mailbox, handle: TurnHandle) -> None:
        thread_key_var.set(mailbox.key)
        user_id_var.set(str(handle.user_id))
        refresher = asyncio.create_task(self._refresh_slot(handle))

        async def commit(
            events: Sequence[ThreadEvent],
            charges: Sequence[BillingCommand],
            /,
            *,
            publish_later: bool = False,
        ) -> ThreadState:
            return await self._commit(mailbox, events, charges, publish_later=publish_later)

        try:
            await self.runner.run(handle, commit)
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
        resumable = running.steps == 0 or bool(running.transcript)  # not answering yet
        if resumable and running.attempt < MAX_ATTEMPTS:
            retry = msgspec.structs.replace(running, attempt=running.attempt + 1)
            retried = msgspec.structs.replace(state, running=retry)
            async with mailbox.lock:
                stored = self._load(mailbox.key)
                await self.store.save(
                    mailbox.key, mailbox.partition, StoredThread(retried, stored.outbox)
                )
            await self.slots.acquire(running.started.user_id, running.turn_id)
            inputs = _inputs_of(retried, running.started.input_message_ids)
            handle = TurnHandle(
                running=retry,
                state=retried,
                inputs=inputs,
                name_topic=bool(
                    retried.message_thread_id and retried.is_forum and not retried.topic_named
                ),
            )
            self._launch(mailbox, handle)
            return
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        abandoned = interrupted_calls(running)  # the turn ends: its open tool calls too
        if abandoned:
            await self._commit(mailbox, abandoned)
        if running.steps > 0 and running.text.strip():
            try:
                ids = await self.runner.telegram.send_answer(chat_id, thread_id, running.text)
            except TelegramOutputError:
                ids = ()
            await self._commit(
                mailbox,
                [turn_completed(running, running.telegram_message_ids + ids)],
                [interrupted_release(running)],
            )
        else:
            verdict = FailureVerdict("interrupted", INTERRUPTED_MESSAGE, True, False)
            event = turn_failed(running, verdict, partial_usage=Usage())
            charge = usage_charge(event, user_id=running.started.user_id, turn_id=running.turn_id)
            with contextlib.suppress(TelegramOutputError):
                await self.runner.telegram.send_notice(chat_id, thread_id, INTERRUPTED_MESSAGE)
            await self._commit(mailbox, [event], [charge or interrupted_release(running)])
        await self.slots.release(running.started.user_id, running.turn_id)

    # ------------------------------------------------------------------ commits

    async def _commit(
        self,
        mailbox: Mailbox,
        events: Sequence[ThreadEvent],
        charges: Sequence[BillingCommand] = (),
        *,
        processed: Sequence[str] = (),
        publish_later: bool = False,
    ) -> ThreadState:
        """Evolve, store state + outbox durably, publish the outbox durably, clear it.

        With ``publish_later`` the outbox is published by a background task (the state write
        is durable already, so a crash republishes it); the next commit of the thread waits
        for that task first, and every ack comes after a later commit, so a command is still
        acked only once its events are durable. The turn's model call need not wait for it.
        """
        async with mailbox.lock:
            await self._settle_publishing(mailbox)
            stored = self._load(mailbox.key)
            state = evolve_all(stored.state, list(events)).mark_processed(*processed)
            records = [self._record(self._events_topic, e) for e in events]
            records += [self._record(self._billing_topic, c) for c in charges]
            note_unpriced(charges)
            outbox = stored.outbox + tuple(records)
            if not outbox and state == stored.state:
                return state
            await shielded(
                self.store.save(mailbox.key, mailbox.partition, StoredThread(state, outbox))
            )
            if outbox and publish_later:
                mailbox.publishing = asyncio.create_task(self._publish(mailbox, state, outbox))
            elif outbox:
                await shielded(self.sink.send_all(outbox))
                self.store.save_local(mailbox.key, StoredThread(state))
            return state

    async def _publish(
        self, mailbox: Mailbox, state: ThreadState, outbox: tuple[OutboxRecord, ...]
    ) -> None:
        await self.sink.send_all(outbox)
        current = self.store.load(mailbox.key)
        if current is not None and current.outbox == outbox:
            self.store.save_local(mailbox.key, StoredThread(current.state))

    async def _settle_publishing(self, mailbox: Mailbox) -> None:
        """Wait for a background publish; if it failed, its records stay in the outbox."""
        task, mailbox.publishing = mailbox.publishing, None
        if task is not None:
            try:
                await shielded(task)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox publish failed, will retry with the next commit: %s", exc)

    async def _publish_billing(self, command: BillingCommand) -> None:
        """A reservation, published now (see :mod:`infra.threads.holds`)."""
        await self.sink.send_all([self._record(self._billing_topic, command)])

    def _record(self, spec: TopicSpec[Any], record: Any) -> OutboxRecord:
        key, value, headers = codec_for(spec).encode(record)
        return OutboxRecord(spec.name, key, value, headers)

    # ------------------------------------------------------------------ facts and notices

    def _facts_without_balance(self, command: ThreadInboxCommand) -> Facts:
        return Facts(
            thinking_budget=self.config.thinking_budget, default_model=self.config.default_model
        )

    async def _facts(self, user_id: int, *, other_running: int) -> Facts:
        balance = await self.balances.balance(user_id)
        if balance is None and self.config.balance_wait > 0:
            # a brand-new user's starter credit may be a few milliseconds behind
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.config.balance_wait
            while balance is None and loop.time() < deadline:
                await asyncio.sleep(0.05)
                balance = await self.balances.balance(user_id)
        chosen = await self.preferences.preferences(user_id)
        return Facts(
            user_model=chosen.model,
            user_personality=chosen.personality,
            balance=balance,
            other_running=other_running,
            thinking_budget=self.config.thinking_budget,
            thinking_level=chosen.thinking,
            default_model=self.config.default_model,
        )

    async def _wait_in_line(
        self, mailbox: Mailbox, user_id: int, turn_id: str, last: UserMessageReceived
    ) -> bool:
        """The user runs the maximum of generations: tell them, then wait for a free slot
        (up to ``queue_wait``; a /stop in this thread ends the wait)."""
        if self.config.queue_wait <= 0:
            return False
        notice = Notice(
            QUEUED_MESSAGE.format(
                limit=self.slots.limit, minutes=max(1, round(self.config.queue_wait / 60))
            ),
            last.message.message_id,
        )
        await self._send_notices(mailbox, [notice])
        return await self.slots.wait_for_slot(
            user_id,
            turn_id,
            max_wait=self.config.queue_wait,
            give_up=lambda: any(isinstance(i.command, StopRequested) for i in mailbox.items),
        )

    async def _send_notices(self, mailbox: Mailbox, notices: Sequence[Notice]) -> None:
        if not notices:
            return
        state = self._load(mailbox.key).state
        chat_id, thread_id = _address(mailbox.key, state)
        for notice in notices:
            if notice.refusal_to_user is not None:
                now = self.config.clock()
                if not refusal_due(self._refusals_sent.get(notice.refusal_to_user), now):
                    continue
                self._refusals_sent = record_refusal(
                    self._refusals_sent, notice.refusal_to_user, now
                )
            try:
                await self.runner.telegram.send_notice(
                    chat_id, thread_id, notice.text, reply_to=notice.reply_to_message_id
                )
            except TelegramOutputError as exc:
                log.warning("notice not sent: %s", exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _transient(exc: Exception) -> bool:
    """The broker is unavailable for now (down, restarting, electing leaders): a retry will
    do, and is safe (a command decides the same ids again; what was durable is skipped)."""
    if isinstance(exc, KafkaError):
        return exc.retriable or isinstance(exc, KafkaTimeoutError)
    return isinstance(exc, ConnectionError | TimeoutError)


async def _begun(task: asyncio.Task[None]) -> None:
    """Wait until ``task`` has taken its first step. A task cancelled before that never runs
    its coroutine at all: the turn would end without its terminal event, its slot and acks
    never released. It happens when a recovered turn is launched and the very next command
    of the mailbox (the newer message or /stop that arrived while no worker ran) preempts it
    before the loop has run it once."""
    coro = task.get_coro()
    if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
        await asyncio.sleep(0)  # its first step was queued when it was created: it runs first


def _continues(previous: UserMessage, message: UserMessage) -> bool:
    if message.sender.user_id != previous.sender.user_id:
        return False
    if previous.media_group_id:
        return message.media_group_id == previous.media_group_id
    return len(previous.text) >= SPLIT_TEXT_MIN_CHARS and not message.media_group_id


def _address(key: str, state: ThreadState) -> tuple[int, int | None]:
    if state.opened:
        return state.chat_id, state.message_thread_id or None
    chat, _, thread = key.partition(":")
    return int(chat), int(thread) or None


def _inputs_of(state: ThreadState, message_ids: tuple[int, ...]) -> tuple[UserMessage, ...]:
    """Inputs of a resumed turn: the history keeps texts and file refs, not UserMessages, so
    files are rebuilt as attachments by reference."""
    found: list[UserMessage] = []
    for item in state.history:
        if item.role != "user" or not set(item.message_ids) & set(message_ids):
            continue
        found.append(
            UserMessage(
                chat_id=state.chat_id,
                chat_type=state.chat_type,
                message_thread_id=state.message_thread_id or None,
                message_id=item.message_ids[0],
                sender=TelegramUser(user_id=0),
                sent_at=_EPOCH,
                text=item.text,
                attachments=tuple(
                    Attachment(
                        kind=f.kind,
                        file_id=f.file_id,
                        file_unique_id=f.file_id,
                        mime_type=f.mime_type,
                        file_name=f.file_name,
                        file_size=f.file_size,
                    )
                    for f in item.files
                ),
            )
        )
    return tuple(found)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

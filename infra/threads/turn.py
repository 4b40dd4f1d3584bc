"""Running one turn: context -> streamed Claude call(s) -> drafts -> final message(s) ->
events with usage. Cancellation keeps the partial answer visible and reports partial usage.

The runner never touches the state store itself: it hands every batch of events (and the
billing commands for their usage) to ``commit``, which makes them durable before returning.
A step's usage is committed as soon as the step ends; the final answer is sent before the
last step's events are committed, so a crash in between re-runs the turn (the user may see
the answer twice). If the answer cannot be delivered (Telegram refuses it), the turn fails
and reports the completed call's whole usage: it was consumed, so it is charged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from actors.thread.content import MODEL_READABLE, classify_message
from actors.thread.context import (
    FilesTooLarge,
    FileView,
    TurnRequest,
    build_request,
    continuation_messages,
)
from actors.thread.decide import (
    assistant_completed,
    topic_named,
    turn_cancelled,
    turn_completed,
    turn_failed,
    usage_charge,
)
from actors.thread.drafts import draft_id_for
from actors.thread.errors import ModelFailure, classify
from actors.thread.models import TITLE_MODEL, Provider, provider_of
from actors.thread.progress import TurnTrace
from actors.thread.provider import ChatProvider
from actors.thread.state import RunningTurn, ThreadState
from actors.thread.tool_calls import client_tool_uses, continuation_of, step_messages
from actors.thread.tool_events import server_tool_events
from actors.thread.tools.base import thread_files
from actors.thread.topic_title import clean_title, title_request
from events.billing import UsageChargeRequested
from events.catalog import BillingCommand, ThreadEvent
from events.envelope import utc_now
from events.messages import UserMessage
from events.thread import (
    AssistantMessageCompleted,
    TopicNamed,
    TurnCancelled,
    TurnFailed,
)
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested
from events.usage import Usage
from infra.files.intake import FileIntake
from infra.metrics import MODEL_FIRST_TOKEN, PIPELINE_ADDED, TURNS
from infra.threads.claude_client import ClaudeClient, ModelCallError, StepResult, StreamProgress
from infra.threads.holds import TurnHolds
from infra.threads.metrics import TOOL_STEP_OVERHEAD
from infra.threads.shield import shielded as shielded  # re-exported for the actor
from infra.threads.telegram_output import TelegramOutput, TelegramOutputError
from infra.threads.tool_runtime import Commit, ToolRuntime, ToolTurn

log = logging.getLogger(__name__)

MAX_STEPS: Final = 4
"""Continuations of an answer cut at max_tokens."""
DEFAULT_MAX_ITERATIONS: Final = 25
CAP_NOTE: Final = "\n\n_(stopped after {n} tool steps)_"
CONTINUE_REASONS: Final = ("max_tokens", "pause_turn")
STOPPED_SUFFIX: Final = "\n\n⏹ _stopped_"


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


class TurnRunner:
    def __init__(
        self,
        claude: ClaudeClient,
        telegram: TelegramOutput,
        config: TurnConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        tools: ToolRuntime | None = None,
        files: FileIntake | None = None,
        providers: Mapping[Provider, ChatProvider] | None = None,
    ) -> None:
        self.claude = claude
        self.providers: dict[Provider, ChatProvider] = {"anthropic": claude, **(providers or {})}
        """The chat provider port per provider of the model registry (Claude always)."""
        self.telegram = telegram
        self.config = config or TurnConfig()
        self.clock = clock
        self.tools = tools
        self.files = files
        """Takes the turn's files in (store, transcription, Files API); without it, the
        input's images, PDFs and text files are inlined as before the file store."""

    # ------------------------------------------------------------------ main path

    async def run(self, handle: TurnHandle, commit: Commit) -> None:
        """Run the turn to a terminal event (completed, failed, or cancelled)."""
        running = handle.running
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        typing = asyncio.create_task(
            self.telegram.keep_typing(
                chat_id,
                thread_id,
                delay=self.config.typing_delay,
                action=lambda: handle.trace.chat_action(),
                changed=handle.action_changed,
            )
        )
        naming: asyncio.Task[None] | None = None
        if handle.name_topic:
            naming = asyncio.create_task(self._name_topic(handle, commit))
        try:
            await self._steps(handle, commit, typing)
            if naming is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(naming), self.config.title_timeout)
        except asyncio.CancelledError:
            if handle.cancel_reason is None:
                raise  # shutdown or partition revoked: a restart recovers the turn
            await shielded(self._cancelled(handle, commit))
        except ModelCallError as exc:
            await shielded(self._failed(handle, commit, exc.failure))
        except TelegramOutputError as exc:
            await shielded(self._failed(handle, commit, ModelFailure("telegram", str(exc))))
        except Exception as exc:
            log.exception("turn crashed")
            await shielded(
                self._failed(handle, commit, ModelFailure("internal", f"{type(exc).__name__}"))
            )
        finally:
            typing.cancel()
            if naming is not None and not naming.done():
                naming.cancel()

    async def _steps(self, handle: TurnHandle, commit: Commit, typing: asyncio.Task[None]) -> None:
        running = handle.running
        started = running.started
        commit = self._tracking(handle, commit)
        base = await self._base_request(handle, commit)
        handle.text_done = running.text
        continuation = await self._resumed(handle, commit)
        draft_id = draft_id_for(running.turn_id)
        drafts = self.config.drafts and handle.state.chat_type == "private"
        step = handle.running.steps
        cap = self.config.max_iterations
        lengths = 0
        while True:
            step += 1
            kwargs = base.step_kwargs(continuation)
            if "tools" in kwargs and step >= cap:
                kwargs["tool_choice"] = {"type": "none"}  # the last call must answer
            handle.progress = StreamProgress()
            shown = [""]
            handle.trace.new_step()

            def on_text(_: str, handle: TurnHandle = handle, shown: list[str] = shown) -> None:
                if drafts:
                    self._draft(handle, draft_id, shown)

            def on_thinking(
                delta: str, handle: TurnHandle = handle, shown: list[str] = shown
            ) -> None:
                handle.trace.add_thinking(delta)
                if drafts:
                    self._draft(handle, draft_id, shown)

            def on_block(
                block: Mapping[str, Any], handle: TurnHandle = handle, shown: list[str] = shown
            ) -> None:
                handle.trace.block(block)
                handle.action_changed.set()
                if drafts:
                    self._draft(handle, draft_id, shown)

            if handle.holds is not None:
                handle.holds.reserve(handle.running, step, kwargs)
            try:
                result = await self._call(
                    kwargs, handle, on_text, on_thinking=on_thinking, on_block=on_block
                )
            except ModelCallError as exc:
                if not self._files_gone(handle, exc):
                    raise
                base = await self._base_request(handle, commit)  # uploads them again
                kwargs = {**base.step_kwargs(continuation), **_choice(kwargs)}
                result = await self._call(
                    kwargs, handle, on_text, on_thinking=on_thinking, on_block=on_block
                )
            reason = result.stop_reason
            if reason == "tool_use" and step < cap and self._runs_tools(result):
                continuation = continuation + await self._tool_step(handle, commit, result, step)
                continue
            lengths += reason == "max_tokens"
            more = (reason == "pause_turn" and step < cap) or (
                reason == "max_tokens" and lengths < MAX_STEPS
            )
            if not more:
                handle.finalizing = True
                capped = reason == "tool_use" and step >= cap
                suffix = CAP_NOTE.format(n=cap) if capped else ""
                await shielded(self._finish(handle, commit, result, step, typing, suffix))
                return
            event = assistant_completed(
                handle.running,
                step=step,
                model=result.model or started.model,
                api_message_id=result.api_message_id,
                text=result.text,
                stop_reason=reason,
                usage=result.usage,
                content=tuple(result.content) if reason == "pause_turn" else (),
            )
            server = self._server_events(handle, step, result)
            await shielded(self._commit_step(handle, commit, event, server))
            continuation = continuation_messages(
                continuation,
                reason,
                result.content,
                handle.text_done,
                thinking=base.thinking,
            )

    # ------------------------------------------------------------------ tools

    @staticmethod
    def _server_events(
        handle: TurnHandle, step: int, result: StepResult
    ) -> list[ToolCallRequested | ToolCallCompleted | ToolCallFailed]:
        """Records of the server tools the API ran in this step (none for most steps)."""
        if not any(b.get("type") == "server_tool_use" for b in result.content):
            return []
        return server_tool_events(handle.running, step=step, content=result.content, at=utc_now())

    def _runs_tools(self, result: StepResult) -> bool:
        return self.tools is not None and bool(client_tool_uses(result.content))

    def _tracking(self, handle: TurnHandle, commit: Commit) -> Commit:
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

    async def _base_request(self, handle: TurnHandle, commit: Commit) -> TurnRequest:
        """The request up to this turn's own steps (a resumed turn's history already holds
        their text; they are sent as the continuation instead)."""
        running = handle.running
        started = running.started
        view: FileView | None = None
        file_blocks: dict[int, list[dict[str, Any]]] = {}
        if self.files is not None:
            handle.state, view = await self.files.prepare(
                handle.state, running, commit, on_transcript=self._transcript_shown(handle)
            )
        else:
            file_blocks = await self._file_blocks(handle)
        state = handle.state
        if running.steps:
            history = tuple(i for i in state.history if i.turn_id != running.turn_id)
            state = msgspec.structs.replace(state, history=history)
        try:
            return build_request(
                state,
                model=started.model,
                personality=started.personality,
                thinking_budget=started.thinking_budget_tokens,
                file_blocks=file_blocks,
                thinking_level=started.thinking_level,
                tools=self.tools.definitions(started.model) if self.tools is not None else (),
                betas=self.tools.registry.betas(started.model) if self.tools is not None else (),
                files=view,
            )
        except FilesTooLarge as exc:  # refused before the call: nothing consumed
            raise ModelCallError(ModelFailure("file_too_large", str(exc))) from None

    async def _resumed(self, handle: TurnHandle, commit: Commit) -> list[dict[str, Any]]:
        """A turn resumed after a crash mid-loop: settle the interrupted calls (re-run once or
        failed, per tool), run what is left, and rebuild the continuation from the events."""
        running = handle.running
        if not running.transcript:
            return []
        if self.tools is not None:
            running = await self.tools.settle_interrupted(running, commit)
            running = await self.tools.run_pending(running, handle.state, handle.tools, commit)
            handle.running = running
        return continuation_of(running, handle.tools.blocks)

    async def _tool_step(
        self, handle: TurnHandle, commit: Commit, result: StepResult, step: int
    ) -> list[dict[str, Any]]:
        """Commit the step with its tool requests, run the calls, return the messages that
        carry the step and its results into the next request."""
        assert self.tools is not None
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
        server = self._server_events(handle, step, result)
        await shielded(self._commit_step(handle, commit, event, [*server, *requests]))
        self._trace_calls(handle, uses)
        ticker = asyncio.create_task(self._show_tools(handle))
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
        assert self.tools is not None
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

    async def _show_tools(self, handle: TurnHandle, every: float = 1.0) -> None:
        """While client tools run (no tokens stream then), refresh the draft with their
        status lines about once a second."""
        drafts = self.config.drafts and handle.state.chat_type == "private"
        if not drafts:
            return
        shown = [""]
        draft_id = draft_id_for(handle.running.turn_id)
        while True:
            handle.trace.statuses(handle.tools.status)
            self._draft(handle, draft_id, shown, force=True)
            await asyncio.sleep(every)

    async def _commit_step(
        self,
        handle: TurnHandle,
        commit: Commit,
        event: AssistantMessageCompleted,
        extra: Sequence[ThreadEvent] = (),
    ) -> None:
        """Commit a step the turn continues after; with ``extra`` (its tool requests) only the
        state write is waited for: it is what must be durable before a call runs."""
        charge = usage_charge(
            event,
            user_id=handle.user_id,
            turn_id=handle.running.turn_id,
            requested_model=handle.running.started.model,
        )
        billing = await self._billing(handle, charge, "no_usage")
        state = await commit([event, *extra], billing, publish_later=bool(extra))
        handle.text_done += event.text
        handle.progress = StreamProgress()
        if state.running is not None:
            handle.running = state.running

    async def _finish(
        self,
        handle: TurnHandle,
        commit: Commit,
        result: StepResult,
        step: int,
        typing: asyncio.Task[None],
        suffix: str = "",
    ) -> None:
        """Send the whole answer, then commit the last step and the turn's completion."""
        running = handle.running
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        typing.cancel()
        await handle.stop_drafts()
        full = handle.text_done + result.text + suffix
        reply_to = (
            running.started.input_message_ids[-1] if running.started.input_message_ids else None
        )
        handle.answered_usage = result.usage
        handle.trace.blocks(result.content)
        shown = handle.trace.final_markdown(full)
        ids = await self.telegram.send_answer(
            chat_id, thread_id, shown if shown.strip() else "(no answer)", reply_to=reply_to
        )
        handle.timings.final_at = self.clock()
        if handle.timings.last_token_at is not None:
            PIPELINE_ADDED.labels("last_token_to_final").observe(
                handle.timings.final_at - handle.timings.last_token_at
            )
        event = assistant_completed(
            running,
            step=step,
            model=result.model or running.started.model,
            api_message_id=result.api_message_id,
            text=result.text,
            stop_reason=result.stop_reason,
            usage=result.usage,
            telegram_message_ids=ids,
        )
        charge = usage_charge(
            event,
            user_id=handle.user_id,
            turn_id=running.turn_id,
            requested_model=running.started.model,
        )
        done = turn_completed(_with_steps(running, step), running.telegram_message_ids + ids)
        server = self._server_events(handle, step, result)
        await commit([event, *server, done], await self._billing(handle, charge, "no_usage"))
        handle.finished = True
        TURNS.labels("completed").inc()

    def _draft(
        self, handle: TurnHandle, draft_id: int, shown: list[str], *, force: bool = False
    ) -> None:
        """Show the turn's progress (thinking, tool lines, answer so far) as a draft, when
        the chat's gate allows one and something changed."""
        running = handle.running
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        if not self.telegram.draft_allowed(chat_id):
            return
        first = handle.progress.first_token_at
        if not force and (first is None or self.clock() - first < self.config.first_draft_delay):
            return  # an answer done within this delay needs no draft
        text = handle.text_done + handle.progress.text
        header = handle.trace.draft_header()
        seen = header.text + "\x00" + text
        if not (text.strip() or header.text) or seen == shown[0]:
            return
        shown[0] = seen
        task = asyncio.create_task(
            self.telegram.draft(chat_id, thread_id, draft_id, text, header=header)
        )
        handle.drafts.add(task)
        task.add_done_callback(handle.drafts.discard)

    async def _call(
        self,
        kwargs: dict[str, Any],
        handle: TurnHandle,
        on_text: Callable[[str], None],
        *,
        on_thinking: Callable[[str], None] | None = None,
        on_block: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> StepResult:
        attempt = 0
        while True:
            attempt += 1

            def on_request(handle: TurnHandle = handle) -> None:
                now = self.clock()
                if handle.timings.request_at is None:
                    handle.timings.request_at = now
                    if handle.timings.received_at is not None:
                        PIPELINE_ADDED.labels("update_to_request").observe(
                            now - handle.timings.received_at
                        )

            try:
                result = await self._provider(str(kwargs["model"])).stream(
                    kwargs,
                    handle.progress,
                    on_text=on_text,
                    on_thinking=on_thinking,
                    on_request=on_request,
                    on_block=on_block,
                )
            except ModelCallError as exc:
                failure = exc.failure
                retry = (
                    failure.kind in ("rate_limited", "overloaded")
                    and not failure.streamed
                    and attempt <= self.config.model_retries
                )
                if not retry:
                    raise
                wait = min(failure.retry_after or 1.0, self.config.max_retry_wait)
                await asyncio.sleep(wait)
                handle.progress = StreamProgress()
                continue
            progress = handle.progress
            if progress.first_token_at is not None and handle.timings.request_at is not None:
                MODEL_FIRST_TOKEN.observe(progress.first_token_at - handle.timings.request_at)
            handle.timings.last_token_at = self.clock()
            return result

    def _provider(self, model: str) -> ChatProvider:
        provider = provider_of(model)
        found = self.providers.get(provider)
        if found is None:
            raise ModelCallError(
                ModelFailure("auth", f"no {provider} client is configured for {model}")
            )
        return found

    # ------------------------------------------------------------------ endings

    async def _cancelled(self, handle: TurnHandle, commit: Commit) -> None:
        running = handle.running
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        reason = handle.cancel_reason or "stop_command"
        await handle.stop_drafts()
        if self.tools is not None:
            await self.tools.cancel_pending(handle.running, commit, reason)
        partial = handle.progress.text
        usage = handle.progress.partial_usage()
        visible = handle.text_done + partial
        if reason == "stop_command":
            text = (visible.rstrip() + STOPPED_SUFFIX) if visible.strip() else "⏹ Stopped."
        else:
            text = visible
        if text.strip():
            try:
                await self.telegram.send_answer(chat_id, thread_id, text)
            except TelegramOutputError as exc:
                log.warning("partial answer not shown: %s", exc)
        event: TurnCancelled = turn_cancelled(
            running, reason=reason, partial_usage=usage, partial_text=partial
        )
        charge = usage_charge(event, user_id=handle.user_id, turn_id=running.turn_id)
        await commit([event], await self._billing(handle, charge, "turn_cancelled"))
        handle.finished = True
        TURNS.labels("cancelled").inc()

    async def _failed(self, handle: TurnHandle, commit: Commit, failure: ModelFailure) -> None:
        running = handle.running
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        verdict = classify(failure)
        await handle.stop_drafts()
        if self.tools is not None:
            await self.tools.cancel_pending(handle.running, commit, "the turn failed")
        if handle.answered_usage is not None:
            # The model call completed (we pay for it) but its answer could not be delivered
            # or committed: the consumed usage is the call's whole usage.
            usage = handle.answered_usage
        elif verdict.report_partial_usage:
            usage = handle.progress.partial_usage()
        else:
            usage = Usage()
        visible = handle.text_done + handle.progress.text
        with contextlib.suppress(TelegramOutputError):
            if visible.strip() and failure.kind != "telegram":
                await self.telegram.send_answer(chat_id, thread_id, visible)
            await self.telegram.send_notice(chat_id, thread_id, verdict.user_message)
        event: TurnFailed = turn_failed(running, verdict, partial_usage=usage)
        charge = usage_charge(event, user_id=handle.user_id, turn_id=running.turn_id)
        await commit([event], await self._billing(handle, charge, "turn_failed"))
        handle.finished = True
        TURNS.labels("failed").inc()

    async def _billing(
        self, handle: TurnHandle, charge: UsageChargeRequested | None, reason: str
    ) -> list[BillingCommand]:
        """The call's charge naming its reservation, or the reservation's release."""
        if handle.holds is None:
            return [charge] if charge is not None else []
        return await handle.holds.settle(handle.running, charge, reason)

    # ------------------------------------------------------------------ inputs and naming

    def _files_gone(self, handle: TurnHandle, exc: ModelCallError) -> bool:
        """True (once per turn) when the API refused the request because a referenced file is
        gone (expired or deleted there before our clock said so): those uploads are marked
        stale, so the next request uploads them again."""
        failure = exc.failure
        if self.files is None or handle.files_refreshed or failure.streamed:
            return False
        gone = _FILE_NOT_FOUND.findall(failure.detail) if failure.status == 404 else []
        if not gone:
            return False
        handle.files_refreshed = True
        self.files.mark_stale(*gone)
        log.info(
            "referenced files gone at the API, uploading again", extra={"fields": {"files": gone}}
        )
        return True

    def _transcript_shown(self, handle: TurnHandle) -> Callable[[str, float | None], None]:
        """Show a transcript in the draft at once (private chats), before the model answers."""

        def shown(text: str, seconds: float | None) -> None:
            handle.trace.add_transcript(text, seconds)
            if self.config.drafts and handle.state.chat_type == "private":
                self._draft(handle, draft_id_for(handle.running.turn_id), [""], force=True)

        return shown

    async def _file_blocks(self, handle: TurnHandle) -> dict[int, list[dict[str, Any]]]:
        """The input's files inlined (base64/text): only without a file intake."""
        blocks: dict[int, list[dict[str, Any]]] = {}
        for message in handle.inputs:
            for readable in classify_message(message).readable:
                if readable.kind not in MODEL_READABLE:
                    continue
                block = await self.telegram.file_block(readable)
                if block is not None:
                    blocks.setdefault(message.message_id, []).append(block)
        return blocks

    async def _name_topic(self, handle: TurnHandle, commit: Commit) -> None:
        running = handle.running
        first = next((m.text for m in handle.inputs if m.text.strip()), "")
        try:
            answer, usage = await self.claude.complete(title_request(first, TITLE_MODEL))
        except ModelCallError as exc:
            log.info("topic not named: %s", exc)
            answer, usage = "", Usage()
        title = clean_title(answer, first)
        renamed = await self.telegram.rename_topic(
            running.chat_id, running.message_thread_id, title
        )
        if not renamed and usage.is_zero():
            return
        event: TopicNamed = topic_named(running, title=title, model=TITLE_MODEL, usage=usage)
        charge = usage_charge(event, user_id=handle.user_id, turn_id=running.turn_id)
        await shielded(commit([event], [charge] if charge else []))


_FILE_NOT_FOUND: Final = re.compile(r"File not found: (file_[A-Za-z0-9_-]+)")


def _choice(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"tool_choice": kwargs["tool_choice"]} if "tool_choice" in kwargs else {}


def _with_steps(running: RunningTurn, steps: int) -> RunningTurn:
    return msgspec.structs.replace(running, steps=steps)

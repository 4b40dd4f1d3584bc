"""Running one turn: context -> streamed Claude call(s) -> drafts -> final message(s) ->
events with usage. Cancellation keeps the partial answer visible and reports partial usage.

The runner never touches the state store itself: it hands every batch of events (and the
billing commands for their usage) to ``commit``, which makes them durable before returning.
A step's usage is committed as soon as the step ends, the last step's too: its answer is
recorded (``final``) and charged before it is sent, and the completion naming the messages
that show it is committed after, so a worker dying in between leaves a turn that is answered
from its record, never by calling the model again (:mod:`infra.threads.recovery`). If the
answer cannot be delivered (Telegram refuses it), the turn fails; its calls stay charged
once, as they were consumed.

Its parts: the turn in flight (:mod:`infra.threads.turn_state`), its inputs
(:mod:`infra.threads.turn_inputs`), drafts (:mod:`infra.threads.turn_drafts`), tool steps
(:mod:`infra.threads.turn_tools`) and endings other than completion
(:mod:`infra.threads.turn_endings`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Final

import msgspec

from actors.thread.answer_frame import AnswerFrame, answer_frame, framed
from actors.thread.context import TurnRequest, continuation_messages
from actors.thread.drafts import draft_id_for
from actors.thread.errors import ModelFailure
from actors.thread.models import TITLE_MODEL, Provider, provider_of
from actors.thread.outcomes import assistant_completed, topic_named, turn_completed, usage_charge
from actors.thread.provider import ChatProvider
from actors.thread.state import RunningTurn
from actors.thread.tool_calls import client_tool_uses
from actors.thread.topic_title import clean_title, title_request
from events.thread import TopicNamed
from events.usage import Usage
from infra.files.intake import FileIntake
from infra.metrics import MODEL_FIRST_TOKEN, PIPELINE_ADDED, TURNS
from infra.threads.claude_client import ClaudeClient, ModelCallError, StepResult, StreamProgress
from infra.threads.shield import shielded, stopped
from infra.threads.store_port import Commit
from infra.threads.telegram_output import TelegramOutput, TelegramOutputError
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn_drafts import TurnDrafts
from infra.threads.turn_endings import TurnEndings
from infra.threads.turn_inputs import TurnInputs
from infra.threads.turn_state import TurnConfig, TurnHandle
from infra.threads.turn_tools import ToolSteps, tracking

log = logging.getLogger(__name__)

MAX_STEPS: Final = 4
"""Continuations of an answer cut at max_tokens."""
CAP_NOTE: Final = "\n\n_(stopped after {n} tool steps)_"
CONTINUE_REASONS: Final = ("max_tokens", "pause_turn")


class AnswerNotRecorded(Exception):
    """The broker did not take the answer's record within the commit's wait: whether it is
    durable is unknown, so the turn is neither completed nor failed here."""


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
        self.drafts = TurnDrafts(telegram, self.config, clock)
        self.inputs = TurnInputs(telegram, tools, files, self.drafts)
        self.endings = TurnEndings(telegram, tools)
        self.tool_steps = ToolSteps(tools, self.drafts, clock) if tools is not None else None

    def use_files(self, intake: FileIntake) -> None:
        """Take the turns' files in with ``intake`` from now on (the file store became
        reachable after the worker started without it)."""
        self.files = intake
        self.inputs.files = intake

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
        ending: Coroutine[Any, Any, None] | None = None
        try:
            await self._steps(handle, commit, typing)
            if naming is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(naming), self.config.title_timeout)
        except asyncio.CancelledError:
            if handle.cancel_reason is None:
                raise  # shutdown or partition revoked: a restart recovers the turn
            ending = self.endings.cancelled(handle, commit)
        except AnswerNotRecorded as exc:
            # Failing the turn would charge its call again if the record is durable after all.
            # Left as a dead worker leaves it: no terminal event, its command unacked; the
            # recovery finds it answered (and sends the record) or re-runs it.
            log.error("answer not recorded; the turn is left to its recovery: %r", exc.__cause__)
        except ModelCallError as exc:
            ending = self.endings.failed(handle, commit, exc.failure)
        except TelegramOutputError as exc:
            ending = self.endings.failed(handle, commit, ModelFailure("telegram", str(exc)))
        except Exception as exc:
            log.exception("turn crashed")
            failure = ModelFailure("internal", type(exc).__name__)
            ending = self.endings.failed(handle, commit, failure)
        finally:
            typing.cancel()
            if naming is not None and not naming.done():
                naming.cancel()
        if ending is not None:
            # the typing indicator ends before the partial answer or the failure shows
            await shielded(_after(stopped(typing), ending))

    async def _steps(self, handle: TurnHandle, commit: Commit, typing: asyncio.Task[None]) -> None:
        running = handle.running
        started = running.started
        commit = tracking(handle, commit)
        base = await self.inputs.base_request(handle, commit)
        handle.text_done = running.text
        continuation = await self.inputs.resumed(handle, commit)
        step = handle.running.steps
        cap = self.config.max_iterations
        lengths = 0
        while True:
            step += 1
            result, base = await self._step(handle, commit, base, continuation, step)
            reason = result.stop_reason
            tools = self._tool_steps_for(result)
            if reason == "tool_use" and step < cap and tools is not None:
                continuation = continuation + await tools.run(handle, commit, result, step)
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
            server = handle.server_events(step, result)
            await shielded(handle.commit_step(commit, event, server))
            continuation = continuation_messages(
                continuation,
                reason,
                result.content,
                handle.text_done,
                thinking=base.thinking,
            )

    def _tool_steps_for(self, result: StepResult) -> ToolSteps | None:
        """The tool steps, when the result asks for client tools and tools are configured."""
        if self.tool_steps is None or not client_tool_uses(result.content):
            return None
        return self.tool_steps

    async def _step(
        self,
        handle: TurnHandle,
        commit: Commit,
        base: TurnRequest,
        continuation: list[dict[str, Any]],
        step: int,
    ) -> tuple[StepResult, TurnRequest]:
        """One model call of the turn (the last allowed one must answer), streamed into the
        draft; the request (rebuilt when the API said a file is gone) stays the turn's."""
        kwargs = base.step_kwargs(continuation)
        if "tools" in kwargs and step >= self.config.max_iterations:
            kwargs["tool_choice"] = {"type": "none"}  # the last call must answer
        handle.progress = StreamProgress()
        handle.trace.new_step()
        on_text, on_thinking, on_block = self._stream_callbacks(handle)
        if handle.holds is not None:
            handle.holds.reserve(handle.running, step, kwargs)
        try:
            result = await self._call(
                kwargs, handle, on_text, on_thinking=on_thinking, on_block=on_block
            )
        except ModelCallError as exc:
            if not self.inputs.files_gone(handle, exc):
                raise
            base = await self.inputs.base_request(handle, commit)  # uploads them again
            kwargs = {**base.step_kwargs(continuation), **_choice(kwargs)}
            result = await self._call(
                kwargs, handle, on_text, on_thinking=on_thinking, on_block=on_block
            )
        return result, base

    def _stream_callbacks(
        self, handle: TurnHandle
    ) -> tuple[Callable[[str], None], Callable[[str], None], Callable[[Mapping[str, Any]], None]]:
        """What a step's stream calls per text delta, thinking delta and finished block:
        the trace updated, and the draft shown (private chats)."""
        draft_id = draft_id_for(handle.running.turn_id)
        drafts = self.drafts.enabled(handle)
        shown = [""]

        def on_text(_: str) -> None:
            if drafts:
                self.drafts.show(handle, draft_id, shown)

        def on_thinking(delta: str) -> None:
            handle.trace.add_thinking(delta)
            if drafts:
                self.drafts.show(handle, draft_id, shown)

        def on_block(block: Mapping[str, Any]) -> None:
            handle.trace.block(block)
            handle.action_changed.set()
            if drafts:
                self.drafts.show(handle, draft_id, shown)

        return on_text, on_thinking, on_block

    async def _finish(
        self,
        handle: TurnHandle,
        commit: Commit,
        result: StepResult,
        step: int,
        typing: asyncio.Task[None],
        suffix: str = "",
    ) -> None:
        """Record the last step (its answer and charge), send the answer, then record the
        turn's completion with the messages that show it."""
        running = handle.running
        chat_id, thread_id = running.chat_id, running.message_thread_id or None
        handle.answered_usage = result.usage  # consumed: charged by a failure until recorded
        await stopped(typing)
        await handle.stop_drafts()
        full = handle.text_done + result.text + suffix
        reply_to = (
            running.started.input_message_ids[-1] if running.started.input_message_ids else None
        )
        handle.trace.blocks(result.content)
        frame = answer_frame(handle.trace.final_parts(full), handle.text_done + result.text)
        answer = framed(handle.text_done + result.text, frame)
        await self._record_answer(handle, commit, result, step, frame)
        ids = await self.telegram.send_answer(chat_id, thread_id, answer, reply_to=reply_to)
        handle.timings.final_at = self.clock()
        if handle.timings.last_token_at is not None:
            PIPELINE_ADDED.labels("last_token_to_final").observe(
                handle.timings.final_at - handle.timings.last_token_at
            )
        done = turn_completed(
            _with_steps(running, step), running.telegram_message_ids + ids, answer
        )
        await commit([done], [])
        handle.finished = True
        TURNS.labels("completed").inc()

    async def _record_answer(
        self, handle: TurnHandle, commit: Commit, result: StepResult, step: int, frame: AnswerFrame
    ) -> None:
        """Commit the last step with its charge and the ``frame`` of the answer about to be
        sent: from here the turn is answered (see :mod:`infra.threads.recovery`), and a
        failure to deliver it charges nothing more."""
        running = handle.running
        event = assistant_completed(
            running,
            step=step,
            model=result.model or running.started.model,
            api_message_id=result.api_message_id,
            text=result.text,
            stop_reason=result.stop_reason,
            usage=result.usage,
            final=True,
            frame=frame,
        )
        charge = usage_charge(
            event,
            user_id=handle.user_id,
            turn_id=running.turn_id,
            requested_model=running.started.model,
        )
        server = handle.server_events(step, result)
        billing = await handle.settle(charge, "no_usage")
        try:
            await commit([event, *server], billing)
        except Exception as exc:
            raise AnswerNotRecorded from exc
        handle.answered_usage = None
        handle.progress = StreamProgress()

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
            detail = f"no {provider} client is configured for {model}"
            raise ModelCallError(ModelFailure("model_unavailable", detail))
        return found

    # ------------------------------------------------------------------ naming

    async def _name_topic(self, handle: TurnHandle, commit: Commit) -> None:
        running = handle.running
        first = next((m.text for m in handle.inputs if m.text.strip()), "")
        try:
            answer, usage = await self.claude.complete(title_request(first, TITLE_MODEL))
        except ModelCallError as exc:
            log.info("topic not named: %s", exc)
            answer, usage = "", Usage()
        title = clean_title(handle.language, answer, first)
        renamed = await self.telegram.rename_topic(
            running.chat_id, running.message_thread_id, title
        )
        if not renamed and usage.is_zero():
            return
        event: TopicNamed = topic_named(running, title=title, model=TITLE_MODEL, usage=usage)
        charge = usage_charge(event, user_id=handle.user_id, turn_id=running.turn_id)
        await shielded(commit([event], [charge] if charge else []))


def _choice(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"tool_choice": kwargs["tool_choice"]} if "tool_choice" in kwargs else {}


def _with_steps(running: RunningTurn, steps: int) -> RunningTurn:
    return msgspec.structs.replace(running, steps=steps)


async def _after(first: Awaitable[None], then: Awaitable[None]) -> None:
    await first
    await then

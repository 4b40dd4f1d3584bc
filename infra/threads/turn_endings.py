"""How a turn ends when it does not complete: cancelled (``/stop``, a superseding message, a
reset) with its partial answer kept and its partial usage charged, or failed with the user
told why and what was consumed charged."""

from __future__ import annotations

import contextlib
import logging
from typing import Final

from actors.thread.errors import ModelFailure, classify
from actors.thread.outcomes import turn_cancelled, turn_failed, usage_charge
from events.thread import TurnCancelled, TurnFailed
from events.usage import Usage
from infra.metrics import TURNS
from infra.threads.store_port import Commit
from infra.threads.telegram_output import TelegramOutput, TelegramOutputError
from infra.threads.tool_runtime import ToolRuntime
from infra.threads.turn_state import TurnHandle

log = logging.getLogger(__name__)

STOPPED_SUFFIX: Final = "\n\n⏹ _stopped_"


class TurnEndings:
    def __init__(self, telegram: TelegramOutput, tools: ToolRuntime | None) -> None:
        self.telegram = telegram
        self.tools = tools

    async def cancelled(self, handle: TurnHandle, commit: Commit) -> None:
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
        await commit([event], await handle.settle(charge, "turn_cancelled"))
        handle.finished = True
        TURNS.labels("cancelled").inc()

    async def failed(self, handle: TurnHandle, commit: Commit, failure: ModelFailure) -> None:
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
        await commit([event], await handle.settle(charge, "turn_failed"))
        handle.finished = True
        TURNS.labels("failed").inc()

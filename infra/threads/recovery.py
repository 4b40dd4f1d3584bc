"""A turn a dead worker left running (``TurnStarted`` durable, no terminal event): re-run
once (same turn id and event ids), or resumed once from its events when it is in its tool
loop, else completed/failed exactly once (see :mod:`infra.threads.actor`).

A turn whose answer is recorded (``RunningTurn.answered``: the last call's event is durable,
its charge with it) is never re-run: its answer is sent from the record, as the dead worker
would have sent it (its tool and source lines, a reply to the question). Whether the dead
worker's own send reached Telegram cannot be known (the Bot API has no idempotency key), so
the user may see it twice when the worker died between Telegram's answer and the record of
the completion, a window of milliseconds; never an answer lost or a call made or charged
twice."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Final

import msgspec

from actors.texts import recorded_language
from actors.thread.answer_frame import AnswerFrame, framed
from actors.thread.errors import FailureVerdict, interrupted_message
from actors.thread.outcomes import turn_completed, turn_failed, usage_charge
from actors.thread.state import RunningTurn, ThreadState
from actors.thread.tool_events import interrupted_calls
from events.messages import Attachment, TelegramUser, UserMessage
from events.usage import Usage
from infra.threads.holds import interrupted_release
from infra.threads.store_port import Commit
from infra.threads.telegram_output import TelegramOutput, TelegramOutputError
from infra.threads.turn_state import TurnHandle

MAX_ATTEMPTS: Final = 2


def may_rerun(running: RunningTurn) -> bool:
    """Not answering yet (no step, or in its tool loop) and not re-run already."""
    if running.answered:
        return False
    resumable = running.steps == 0 or bool(running.transcript)
    return resumable and running.attempt < MAX_ATTEMPTS


def rerun(state: ThreadState) -> tuple[ThreadState, TurnHandle]:
    """The thread with its running turn's next attempt, and the handle that runs it."""
    running = state.running
    assert running is not None
    retry = msgspec.structs.replace(running, attempt=running.attempt + 1)
    retried = msgspec.structs.replace(state, running=retry)
    handle = TurnHandle(
        running=retry,
        state=retried,
        inputs=_inputs_of(retried, running.started.input_message_ids),
        name_topic=bool(retried.message_thread_id and retried.is_forum and not retried.topic_named),
    )
    return retried, handle


async def end_interrupted(running: RunningTurn, commit: Commit, telegram: TelegramOutput) -> None:
    """Finish the turn exactly once: completed with the text it had answered, else failed
    as interrupted; its open tool calls end with it, its reservation is released."""
    chat_id, thread_id = running.chat_id, running.message_thread_id or None
    abandoned = interrupted_calls(running)  # the turn ends: its open tool calls too
    if abandoned:
        await commit(abandoned, [])
    if running.answered or (running.steps > 0 and running.text.strip()):
        answer = framed(running.text, AnswerFrame(running.answer_before, running.answer_after))
        inputs = running.started.input_message_ids
        try:
            ids = await telegram.send_answer(
                chat_id, thread_id, answer, reply_to=inputs[-1] if inputs else None
            )
        except TelegramOutputError:
            ids, answer = (), ""
        # an answered turn's last call was charged with its record: no reservation is open
        release = [] if running.answered else [interrupted_release(running)]
        await commit([turn_completed(running, running.telegram_message_ids + ids, answer)], release)
        return
    notice = interrupted_message(recorded_language(running.started.language))
    verdict = FailureVerdict("interrupted", notice, True, False)
    event = turn_failed(running, verdict, partial_usage=Usage())
    charge = usage_charge(event, user_id=running.started.user_id, turn_id=running.turn_id)
    with contextlib.suppress(TelegramOutputError):
        await telegram.send_notice(chat_id, thread_id, notice)
    await commit([event], [charge or interrupted_release(running)])


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

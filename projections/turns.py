"""The ``threads`` projection's turns: ``turns`` rows and the ``model_calls`` of each step,
from the turn records of ``bot.thread.events`` (the rest is in :mod:`projections.threads`).
"""

from __future__ import annotations

from typing import Any

from events import thread
from events.envelope import Envelope
from projections.rows import Patch, RowOp
from projections.source import Source, to_json
from projections.tables import MESSAGES, TURNS
from projections.threads import chat_id, model_call, touch_thread


def _turn(e: Envelope, turn_id: Any, values: dict[str, Any], src: Source) -> Patch:
    return Patch(TURNS.name, "row", (turn_id,), values, src.offset)


def _answer_message(
    e: thread.AssistantMessageCompleted | thread.TurnCompleted,
    turn_id: Any,
    text: str,
    step: int,
    ids: tuple[int, ...],
    src: Source,
    extra: dict[str, Any] | None = None,
) -> Patch:
    """The ``messages`` row of an answer, keyed by its first Telegram message."""
    values = {
        "thread_key": e.key,
        "role": "assistant",
        "status": "sent",
        "user_id": e.user_id,
        "sent_at": e.occurred_at,
        "text": text,
        "turn_id": turn_id,
        "step": step,
        **(extra or {}),
        "telegram_message_ids": list(ids),
        "seq": src.offset,
    }
    return Patch(MESSAGES.name, "row", (chat_id(e.key), ids[0]), values, src.offset)


def turn_started(e: thread.TurnStarted, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "user_id": e.user_id,
        "model": e.model,
        "input_message_ids": list(e.input_message_ids),
        "thinking_budget_tokens": e.thinking_budget_tokens,
        "max_output_tokens": e.max_output_tokens,
        "started_at": e.occurred_at,
        "status": "running",
    }
    return [_turn(e, e.turn_id, values, src), touch_thread(e, src)]


def assistant_message(e: thread.AssistantMessageCompleted, src: Source) -> list[RowOp]:
    ops: list[RowOp] = [
        model_call(
            e,
            kind="response",
            turn_id=e.turn_id,
            step=e.step,
            user_id=e.user_id,
            model=e.model,
            usage=e.usage,
            billing_operation_id=e.billing_operation_id,
        )
    ]
    if e.telegram_message_ids:
        extra = {"model": e.model, "usage": to_json(e.usage), "stop_reason": e.stop_reason}
        ops.append(
            _answer_message(e, e.turn_id, e.text, e.step, e.telegram_message_ids, src, extra)
        )
    ops.append(touch_thread(e, src))
    return ops


def turn_completed(e: thread.TurnCompleted, src: Source) -> list[RowOp]:
    """The turn's row; and the answer's message, when the completion names it (since the
    answer is recorded before it is sent: ``AssistantMessageCompleted.final``)."""
    values = {
        "thread_key": e.key,
        "user_id": e.user_id,
        "status": "completed",
        "ended_at": e.occurred_at,
        "steps": e.steps,
    }
    ops: list[RowOp] = [_turn(e, e.turn_id, values, src)]
    if e.answer and e.telegram_message_ids:
        ops.append(_answer_message(e, e.turn_id, e.answer, e.steps, e.telegram_message_ids, src))
    ops.append(touch_thread(e, src))
    return ops


def turn_cancelled(e: thread.TurnCancelled, src: Source) -> list[RowOp]:
    return _turn_ended_with_usage(e, "cancelled", src, {"reason": e.reason})


def turn_failed(e: thread.TurnFailed, src: Source) -> list[RowOp]:
    return _turn_ended_with_usage(
        e, "failed", src, {"error_class": e.error_class, "error_message": e.message}
    )


def _turn_ended_with_usage(
    e: thread.TurnCancelled | thread.TurnFailed,
    status: str,
    src: Source,
    extra: dict[str, Any],
) -> list[RowOp]:
    """A turn that ended early: its row, the thread's, and the partial call if it used any."""
    values = {
        "thread_key": e.key,
        "user_id": e.user_id,
        "status": status,
        "ended_at": e.occurred_at,
        **extra,
    }
    ops: list[RowOp] = [_turn(e, e.turn_id, values, src), touch_thread(e, src)]
    if not e.partial_usage.is_zero():
        ops.append(
            model_call(
                e,
                kind=status,
                turn_id=e.turn_id,
                step=e.step,
                user_id=e.user_id,
                model=e.model,
                usage=e.partial_usage,
                billing_operation_id=e.billing_operation_id,
            )
        )
    return ops

"""The events of a turn's outcome, built for the shell that runs the turn (model call,
Telegram output): each is caused by the turn's ``TurnStarted`` with a label, so a retried
report carries the same ids, and each usage report's billing operation id is
``usage:{event id}``; :func:`usage_charge` is the billing command for an event's usage.
"""

from __future__ import annotations

from typing import Any, Final

from actors.billing import operations
from actors.thread.answer_frame import NO_FRAME, AnswerFrame
from actors.thread.decide import PRODUCER
from actors.thread.errors import FailureVerdict
from actors.thread.state import RunningTurn
from events.billing import UsageChargeRequested
from events.envelope import Envelope, caused_by
from events.keys import user_key
from events.thread import (
    AssistantMessageCompleted,
    TopicNamed,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
)
from events.usage import ModelId, Usage


def assistant_completed(
    running: RunningTurn,
    *,
    step: int,
    model: ModelId,
    api_message_id: str,
    text: str,
    stop_reason: str,
    usage: Usage,
    telegram_message_ids: tuple[int, ...] = (),
    content: tuple[dict[str, Any], ...] = (),
    tool_use_ids: tuple[str, ...] = (),
    final: bool = False,
    frame: AnswerFrame = NO_FRAME,
) -> AssistantMessageCompleted:
    """A step's event; ``content`` only for a step the turn continues after (tool_use,
    pause_turn), so the next request and a resumed turn can send it back unchanged."""
    env = caused_by(running.started, producer=PRODUCER, label=f"step-{step}")
    return AssistantMessageCompleted(
        **env,
        turn_id=running.turn_id,
        step=step,
        user_id=running.started.user_id,
        model=model,
        api_message_id=api_message_id,
        text=text,
        stop_reason=stop_reason,
        usage=usage,
        telegram_message_ids=telegram_message_ids,
        billing_operation_id=None if usage.is_zero() else operations.usage(env["id"]),
        content=content,
        tool_use_ids=tool_use_ids,
        final=final,
        answer_before=frame.before,
        answer_after=frame.after,
    )


def turn_completed(
    running: RunningTurn, telegram_message_ids: tuple[int, ...], answer: str = ""
) -> TurnCompleted:
    return TurnCompleted(
        **caused_by(running.started, producer=PRODUCER, label="completed"),
        turn_id=running.turn_id,
        user_id=running.started.user_id,
        steps=running.steps,
        telegram_message_ids=telegram_message_ids,
        answer=answer,
    )


def turn_cancelled(
    running: RunningTurn, *, reason: str, partial_usage: Usage, partial_text: str
) -> TurnCancelled:
    env = caused_by(running.started, producer=PRODUCER, label="cancelled")
    return TurnCancelled(
        **env,
        turn_id=running.turn_id,
        user_id=running.started.user_id,
        reason=reason,
        model=running.started.model,
        step=running.steps + 1,
        partial_usage=partial_usage,
        partial_text=partial_text,
        billing_operation_id=None if partial_usage.is_zero() else operations.usage(env["id"]),
    )


def turn_failed(
    running: RunningTurn, verdict: FailureVerdict, *, partial_usage: Usage
) -> TurnFailed:
    env = caused_by(running.started, producer=PRODUCER, label="failed")
    return TurnFailed(
        **env,
        turn_id=running.turn_id,
        user_id=running.started.user_id,
        error_class=verdict.error_class,
        message=verdict.user_message,
        retryable=verdict.retryable,
        model=running.started.model,
        step=running.steps + 1,
        partial_usage=partial_usage,
        billing_operation_id=None if partial_usage.is_zero() else operations.usage(env["id"]),
    )


def topic_named(running: RunningTurn, *, title: str, model: ModelId, usage: Usage) -> TopicNamed:
    env = caused_by(running.started, producer=PRODUCER, label="topic_named")
    return TopicNamed(
        **env,
        title=title,
        model=model,
        usage=usage,
        source_message_id=running.started.input_message_ids[0],
        billing_operation_id=None if usage.is_zero() else operations.usage(env["id"]),
    )


_SOURCES: Final = {
    AssistantMessageCompleted: "model_call",
    TurnCancelled: "cancelled_call",
    TurnFailed: "failed_call",
    TopicNamed: "topic_naming",
}


def usage_charge(
    event: AssistantMessageCompleted | TurnCancelled | TurnFailed | TopicNamed,
    *,
    user_id: int,
    turn_id: str | None,
    requested_model: str | None = None,
) -> UsageChargeRequested | None:
    """The billing command for an event's usage (``None`` when nothing was consumed).

    It is priced by ``requested_model`` when given (the model the turn asked for), not by
    the id the API reported in the event (a dated snapshot, say), which the event keeps."""
    model: str | None
    if isinstance(event, AssistantMessageCompleted | TopicNamed):
        usage, model = event.usage, event.model
    else:
        usage, model = event.partial_usage, event.model
    model = requested_model or model
    if usage.is_zero() or event.billing_operation_id is None or model is None:
        return None
    source: Envelope = event
    return UsageChargeRequested(
        **caused_by(source, producer=PRODUCER, key=user_key(user_id), label="charge"),
        operation_id=event.billing_operation_id,
        user_id=user_id,
        source=_SOURCES[type(event)],
        source_event_id=event.id,
        thread_key=event.key,
        turn_id=turn_id,
        model=model,
        usage=usage,
    )

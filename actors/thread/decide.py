"""decide(state, command, facts) -> Decision: what the thread actor appends and replies.

Facts are what the shell looked up before deciding (the user's default model and
personality, the balance from a view, how many other generations the user runs). Event ids
are derived from the command id and a label, so a redelivered command decides the same ids.

The turn itself (model call, Telegram output) is an effect run by the shell; its outcome
events are built here too (:func:`assistant_completed` ...), caused by the turn's
``TurnStarted`` with labels, so a retried report carries the same ids, and each usage
report's billing operation id is ``usage:{event id}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from actors.billing import operations
from actors.billing.policy import may_start_request
from actors.thread.content import classify_message
from actors.thread.context import (
    context_budget,
    estimate_text_tokens,
    plan_output,
    system_prompt,
    trim_history,
)
from actors.thread.errors import (
    CONCURRENCY_MESSAGE,
    NOTHING_TO_STOP_MESSAGE,
    PAY_HINT,
    FailureVerdict,
)
from actors.thread.evolve import evolve_all
from actors.thread.models import DEFAULT_MODEL, MODELS
from actors.thread.state import RunningTurn, ThreadState
from events.billing import UsageChargeRequested
from events.catalog import ThreadEvent, ThreadInboxCommand
from events.envelope import Envelope, caused_by
from events.ids import derived_id
from events.keys import user_key
from events.thread import (
    AssistantMessageCompleted,
    ConversationReset,
    ForumTopicCreatedReceived,
    NewConversationRequested,
    SettingsOverridden,
    SettingsOverrideRequested,
    StopRequested,
    ThreadOpened,
    TopicNamed,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserMessageAccepted,
    UserMessageEdited,
    UserMessageEditReceived,
    UserMessageReceived,
    UserMessageRejected,
)
from events.usage import ModelId, Usage

PRODUCER: Final = "thread-actor"
MAX_CONCURRENT_GENERATIONS: Final = 5
TOO_LONG_MESSAGE: Final = (
    "⚠️ This message is too long for me to read. Please shorten it or send it as a file."
)


@dataclass(frozen=True, slots=True)
class Facts:
    user_model: ModelId | None = None
    user_personality: str | None = None
    balance: Decimal | None = None
    other_running: int = 0
    thinking_budget: int | None = None
    thinking_level: str | None = None
    """The user's ``/thinking`` level (None: the default, see :mod:`actors.thread.thinking`)."""
    default_model: ModelId = DEFAULT_MODEL
    """The operator's default model (the ``DEFAULT_MODEL`` setting), for a user without one."""


@dataclass(frozen=True, slots=True)
class Notice:
    """A short reply to the user (a rejection reason, a confirmation)."""

    text: str
    reply_to_message_id: int | None = None
    refusal_to_user: int | None = None
    """Set on the balance refusal: the shell sends it to this user at most once per
    interval (:mod:`actors.thread.refusal_throttle`)."""


@dataclass(slots=True)
class Decision:
    events: list[ThreadEvent] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    start: TurnStarted | None = None
    name_topic: bool = False


def turn_id_for(first_command_id: str) -> str:
    return derived_id(first_command_id, "turn")


def effective_model(state: ThreadState, facts: Facts) -> ModelId:
    return state.model_override or facts.user_model or facts.default_model


def effective_personality(state: ThreadState, facts: Facts) -> str | None:
    return state.personality_override or facts.user_personality


def preemption(state: ThreadState, command: ThreadInboxCommand) -> str | None:
    """The reason to cancel the running turn before handling ``command``, if any."""
    if state.running is None:
        return None
    if isinstance(command, UserMessageReceived):
        return "superseded"
    if isinstance(command, StopRequested):
        return "stop_command"
    if isinstance(command, NewConversationRequested):
        return "conversation_reset"
    return None


def decide(state: ThreadState, command: ThreadInboxCommand, facts: Facts) -> Decision:
    """Events and replies for one command (a message batch goes to :func:`decide_messages`)."""
    if state.has_processed(command.id):
        return Decision()
    if isinstance(command, UserMessageReceived):
        return decide_messages(state, [command], facts)
    if isinstance(command, StopRequested):
        if state.running is None:
            return Decision(notices=[Notice(NOTHING_TO_STOP_MESSAGE, command.message_id)])
        return Decision()
    if isinstance(command, NewConversationRequested):
        event = ConversationReset(
            **caused_by(command, producer=PRODUCER, label="reset"),
            requested_by_user_id=command.user_id,
            by_admin=command.by_admin,
        )
        return Decision(events=[event], notices=[Notice("🧹 Started a new conversation.")])
    if isinstance(command, SettingsOverrideRequested):
        return _decide_settings(state, command)
    if isinstance(command, UserMessageEditReceived):
        if not state.message_in_history(command.message.message_id):
            return Decision()
        edited = UserMessageEdited(
            **caused_by(command, producer=PRODUCER, label="edited"),
            message=command.message,
            edited_at=command.edited_at,
        )
        return Decision(events=[edited])
    if isinstance(command, ForumTopicCreatedReceived):
        if state.opened:
            return Decision()
        opened = ThreadOpened(
            **caused_by(command, producer=PRODUCER, label="opened"),
            chat_id=command.chat_id,
            message_thread_id=command.message_thread_id,
            chat_type="supergroup" if command.chat_id < 0 else "private",
            is_forum=True,
            opened_by_user_id=command.created_by_user_id or 0,
            title=command.name,
        )
        return Decision(events=[opened])
    return Decision()


def _decide_settings(state: ThreadState, command: SettingsOverrideRequested) -> Decision:
    if command.clear:
        model, personality = None, None
        text = "Settings of this thread reset to your defaults."
    else:
        if command.model is not None and command.model not in MODELS:
            return Decision(notices=[Notice(f"Unknown model {command.model}.")])
        model = command.model if command.model is not None else state.model_override
        personality = (
            command.personality if command.personality is not None else state.personality_override
        )
        text = "Settings of this thread updated."
    event = SettingsOverridden(
        **caused_by(command, producer=PRODUCER, label="settings"),
        user_id=command.user_id,
        model=model,
        personality=personality,
    )
    return Decision(events=[event], notices=[Notice(text)])


def decide_messages(
    state: ThreadState, commands: Sequence[UserMessageReceived], facts: Facts
) -> Decision:
    """A batch of user messages (an album, or one message) -> accept and start one turn."""
    commands = [c for c in commands if not state.has_processed(c.id)]
    if not commands:
        return Decision()
    decision = Decision()
    first = commands[0]
    m0 = first.message
    if not state.opened:
        decision.events.append(
            ThreadOpened(
                **caused_by(first, producer=PRODUCER, label="opened"),
                chat_id=m0.chat_id,
                message_thread_id=m0.message_thread_id or 0,
                chat_type=m0.chat_type,
                is_forum=m0.is_topic_message or bool(m0.message_thread_id),
                opened_by_user_id=m0.sender.user_id,
            )
        )
    model = effective_model(state, facts)
    personality = effective_personality(state, facts)
    plan = plan_output(model, facts.thinking_level, facts.thinking_budget)
    max_tokens = plan.max_tokens
    budget = context_budget(model, max_tokens, system_prompt(personality))

    usable: list[UserMessageReceived] = []
    skipped: list[str] = []
    for command in commands:
        m = command.message
        content = classify_message(m)
        reasons = [u.reason for u in content.unreadable]
        if not content.usable:
            detail = "; ".join(reasons) or "the message has no text"
            decision.events.append(_rejected(command, "unsupported_content", detail))
            decision.notices.append(Notice(f"⚠️ Sorry, {detail}.", m.message_id))
            continue
        if estimate_text_tokens(m.text) > budget:
            detail = "the message is too long for the model's context window"
            decision.events.append(_rejected(command, "unsupported_content", detail))
            decision.notices.append(Notice(TOO_LONG_MESSAGE, m.message_id))
            continue
        skipped.extend(reasons)
        usable.append(command)
    if not usable:
        return decision

    verdict = may_start_request(facts.balance)
    if not verdict.allowed:
        for command in usable:
            decision.events.append(_rejected(command, "insufficient_balance", verdict.reason))
        text = f"💳 I can't answer: {verdict.reason}."
        if "/pay" not in text:
            text += " " + PAY_HINT
        decision.notices.append(
            Notice(text, usable[-1].message.message_id, refusal_to_user=m0.sender.user_id)
        )
        return decision
    if facts.other_running >= MAX_CONCURRENT_GENERATIONS:
        for command in usable:
            decision.events.append(
                _rejected(command, "concurrency_limit", "too many generations running")
            )
        decision.notices.append(
            Notice(
                CONCURRENCY_MESSAGE.format(limit=MAX_CONCURRENT_GENERATIONS),
                usable[-1].message.message_id,
            )
        )
        return decision

    first_user_message = not any(item.role == "user" for item in state.history)
    for command in usable:
        decision.events.append(
            UserMessageAccepted(
                **caused_by(command, producer=PRODUCER, label="accepted"),
                message=command.message,
            )
        )
    if skipped:
        decision.notices.append(
            Notice("Note: " + "; ".join(skipped) + ". I'll answer the rest.", m0.message_id)
        )
    after = evolve_all(state, decision.events)
    _, history_tokens = trim_history(after.history, budget)
    started = TurnStarted(
        **caused_by(first, producer=PRODUCER, label="turn_started"),
        turn_id=turn_id_for(first.id),
        user_id=m0.sender.user_id,
        model=model,
        input_message_ids=tuple(c.message.message_id for c in usable),
        personality=personality,
        thinking_budget_tokens=plan.budget_tokens,
        thinking_level=plan.level if plan.level != "off" else None,
        max_output_tokens=max_tokens,
        context_tokens_estimate=history_tokens + estimate_text_tokens(system_prompt(personality)),
    )
    decision.events.append(started)
    decision.start = started
    thread_id = after.message_thread_id or (m0.message_thread_id or 0)
    decision.name_topic = bool(
        thread_id and after.is_forum and not after.topic_named and first_user_message
    )
    return decision


def _rejected(command: UserMessageReceived, reason: str, detail: str) -> UserMessageRejected:
    return UserMessageRejected(
        **caused_by(command, producer=PRODUCER, label="rejected"),
        user_id=command.message.sender.user_id,
        message_id=command.message.message_id,
        reason=reason,
        detail=detail,
    )


# --------------------------------------------------------------------------- turn outcomes


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
    )


def turn_completed(running: RunningTurn, telegram_message_ids: tuple[int, ...]) -> TurnCompleted:
    return TurnCompleted(
        **caused_by(running.started, producer=PRODUCER, label="completed"),
        turn_id=running.turn_id,
        user_id=running.started.user_id,
        steps=running.steps,
        telegram_message_ids=telegram_message_ids,
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

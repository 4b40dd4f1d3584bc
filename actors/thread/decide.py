"""decide(state, command, facts) -> Decision: what the thread actor appends and replies.

Facts are what the shell looked up before deciding (the user's default model and
personality, the balance from a view, how many other generations the user runs). Event ids
are derived from the command id and a label, so a redelivered command decides the same ids.

The turn itself (model call, Telegram output) is an effect run by the shell; its outcome
events are built by :mod:`actors.thread.outcomes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from actors.billing.policy import may_start_request
from actors.thread.content import classify_message
from actors.thread.errors import (
    CONCURRENCY_MESSAGE,
    NOTHING_TO_STOP_MESSAGE,
    PAY_HINT,
)
from actors.thread.evolve import evolve_all
from actors.thread.models import DEFAULT_MODEL, MODELS
from actors.thread.state import ThreadState
from actors.thread.system_prompt import system_prompt
from actors.thread.token_budget import (
    context_budget,
    estimate_text_tokens,
    plan_output,
    trim_history,
)
from events.catalog import ThreadEvent, ThreadInboxCommand
from events.envelope import caused_by
from events.ids import derived_id
from events.thread import (
    ConversationReset,
    ForumTopicCreatedReceived,
    NewConversationRequested,
    SettingsOverridden,
    SettingsOverrideRequested,
    StopRequested,
    ThreadOpened,
    TurnStarted,
    UserMessageAccepted,
    UserMessageEdited,
    UserMessageEditReceived,
    UserMessageReceived,
    UserMessageRejected,
)
from events.usage import ModelId

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
        decision.events.append(_opened_by(first))
    model = effective_model(state, facts)
    personality = effective_personality(state, facts)
    plan = plan_output(model, facts.thinking_level, facts.thinking_budget)
    budget = context_budget(model, plan.max_tokens, system_prompt(personality))
    usable, skipped = _screen(commands, budget, decision)
    if not usable or _refused(usable, facts, m0.sender.user_id, decision):
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
        max_output_tokens=plan.max_tokens,
        context_tokens_estimate=history_tokens + estimate_text_tokens(system_prompt(personality)),
    )
    decision.events.append(started)
    decision.start = started
    thread_id = after.message_thread_id or (m0.message_thread_id or 0)
    decision.name_topic = bool(
        thread_id and after.is_forum and not after.topic_named and first_user_message
    )
    return decision


def _opened_by(first: UserMessageReceived) -> ThreadOpened:
    """The thread opens with its first message (a topic opens with its creation instead)."""
    m0 = first.message
    return ThreadOpened(
        **caused_by(first, producer=PRODUCER, label="opened"),
        chat_id=m0.chat_id,
        message_thread_id=m0.message_thread_id or 0,
        chat_type=m0.chat_type,
        is_forum=m0.is_topic_message or bool(m0.message_thread_id),
        opened_by_user_id=m0.sender.user_id,
    )


def _screen(
    commands: Sequence[UserMessageReceived], budget: int, decision: Decision
) -> tuple[list[UserMessageReceived], list[str]]:
    """The messages the model can read (and the reasons parts of them were skipped); each
    unreadable or too long one is rejected with a notice in ``decision``."""
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
    return usable, skipped


def _refused(
    usable: Sequence[UserMessageReceived], facts: Facts, user_id: int, decision: Decision
) -> bool:
    """True when the balance or the concurrency limit refuses the turn; the rejections and
    the notice (the balance refusal addressed to ``user_id``) are then in ``decision``."""
    last = usable[-1].message.message_id
    verdict = may_start_request(facts.balance)
    if not verdict.allowed:
        for command in usable:
            decision.events.append(_rejected(command, "insufficient_balance", verdict.reason))
        text = f"💳 I can't answer: {verdict.reason}."
        if "/pay" not in text:
            text += " " + PAY_HINT
        decision.notices.append(Notice(text, last, refusal_to_user=user_id))
        return True
    if facts.other_running >= MAX_CONCURRENT_GENERATIONS:
        for command in usable:
            decision.events.append(
                _rejected(command, "concurrency_limit", "too many generations running")
            )
        text = CONCURRENCY_MESSAGE.format(limit=MAX_CONCURRENT_GENERATIONS)
        decision.notices.append(Notice(text, last))
        return True
    return False


def _rejected(command: UserMessageReceived, reason: str, detail: str) -> UserMessageRejected:
    return UserMessageRejected(
        **caused_by(command, producer=PRODUCER, label="rejected"),
        user_id=command.message.sender.user_id,
        message_id=command.message.message_id,
        reason=reason,
        detail=detail,
    )

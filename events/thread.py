"""Thread actor: inbox commands (topic ``bot.thread.inbox``) and its events (``bot.thread.events``).

Both topics are keyed by the thread key (:mod:`events.keys`). Command tags end in
``_received`` or ``_requested``; the actor decides and appends events. Turn events carry
token quantities only; the billing actor prices them (``billing.usage_charge_requested``
names the event it charges for).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from events.envelope import Envelope, UtcDatetime
from events.ids import Id
from events.messages import UserMessage
from events.usage import ModelId, Usage

# --------------------------------------------------------------------------- inbox commands


class UserMessageReceived(Envelope, tag="thread.user_message_received", frozen=True, kw_only=True):
    """The gateway received a user message (text, files, reply, forward, album part)."""

    v: Literal[1] = 1
    message: UserMessage
    update_id: int | None = None


class UserMessageEditReceived(
    Envelope, tag="thread.user_message_edit_received", frozen=True, kw_only=True
):
    """The user edited a message of this thread; ``message`` is its new content."""

    v: Literal[1] = 1
    message: UserMessage
    edited_at: UtcDatetime
    update_id: int | None = None


class StopRequested(Envelope, tag="thread.stop_requested", frozen=True, kw_only=True):
    """``/stop``: cancel the running turn, charging only its partial usage."""

    v: Literal[1] = 1
    user_id: int
    message_id: int | None = None


class NewConversationRequested(
    Envelope, tag="thread.new_conversation_requested", frozen=True, kw_only=True
):
    """Start over: forget the context of this thread (``/new``, or ``/clear`` by an admin).

    ``topic_deleted``: ``/clear`` deleted the thread's forum topic, so the thread ends: its
    running turn is cancelled (partial usage charged), nothing more is sent to the topic, and
    a later message under the same id starts a fresh thread."""

    v: Literal[1] = 1
    user_id: int
    message_id: int | None = None
    by_admin: bool = False
    topic_deleted: bool = False


class SettingsOverrideRequested(
    Envelope, tag="thread.settings_override_requested", frozen=True, kw_only=True
):
    """Use another model or personality in this thread only; ``clear`` drops the overrides.

    ``None`` leaves a setting unchanged; user-wide defaults live in ``bot.users.events``.
    """

    v: Literal[1] = 1
    user_id: int
    model: ModelId | None = None
    personality: str | None = None
    clear: bool = False


class ForumTopicCreatedReceived(
    Envelope, tag="thread.forum_topic_created_received", frozen=True, kw_only=True
):
    """Telegram reported a new forum topic (so a user-chosen name is not overwritten)."""

    v: Literal[1] = 1
    chat_id: int
    message_thread_id: int
    name: str
    created_by_user_id: int | None = None
    icon_custom_emoji_id: str | None = None


# --------------------------------------------------------------------------- thread events

REJECTION_REASONS: Final = (
    "insufficient_balance",
    "concurrency_limit",
    "unsupported_content",
    "duplicate",
    "user_not_registered",
)
CANCEL_REASONS: Final = (
    "stop_command",
    "superseded",
    "conversation_reset",
    "topic_deleted",
    "shutdown",
)
TURN_ERROR_CLASSES: Final = (
    "rate_limited",
    "overloaded",
    "api_error",
    "invalid_request",
    "context_overflow",
    "timeout",
    "stream_broken",
    "telegram_error",
    "insufficient_balance",
    "interrupted",
    "internal",
)


class ThreadOpened(Envelope, tag="thread.opened", frozen=True, kw_only=True):
    """First record of a thread: the chat (and forum topic) the conversation lives in."""

    v: Literal[1] = 1
    chat_id: int
    message_thread_id: int = 0
    chat_type: str
    is_forum: bool = False
    opened_by_user_id: int
    title: str | None = None


class TopicNamed(Envelope, tag="thread.topic_named", frozen=True, kw_only=True):
    """A small model named the forum topic from its first message (3 to 6 words)."""

    v: Literal[1] = 1
    title: str
    model: ModelId
    usage: Usage
    source_message_id: int
    billing_operation_id: str | None = None


class SettingsOverridden(Envelope, tag="thread.settings_overridden", frozen=True, kw_only=True):
    """This thread's model/personality overrides changed (``None`` = use the user's)."""

    v: Literal[1] = 1
    user_id: int
    model: ModelId | None = None
    personality: str | None = None


class ConversationReset(Envelope, tag="thread.conversation_reset", frozen=True, kw_only=True):
    """The context was cleared: later turns do not see earlier messages.

    ``topic_deleted``: the forum topic was deleted (``/clear``): the thread is closed, its
    state starts over (a message under the same id opens it again)."""

    v: Literal[1] = 1
    requested_by_user_id: int
    by_admin: bool = False
    topic_deleted: bool = False


class UserMessageAccepted(Envelope, tag="thread.user_message_accepted", frozen=True, kw_only=True):
    """A user message became part of the conversation (the history is a fold of these)."""

    v: Literal[1] = 1
    message: UserMessage


class UserMessageEdited(Envelope, tag="thread.user_message_edited", frozen=True, kw_only=True):
    """An accepted message was edited; the history shows the new content from now on."""

    v: Literal[1] = 1
    message: UserMessage
    edited_at: UtcDatetime


class UserMessageRejected(Envelope, tag="thread.user_message_rejected", frozen=True, kw_only=True):
    """A user message was not answered; ``reason`` is one of :data:`REJECTION_REASONS`."""

    v: Literal[1] = 1
    user_id: int
    message_id: int
    reason: str
    detail: str = ""


class TurnStarted(Envelope, tag="thread.turn_started", frozen=True, kw_only=True):
    """The actor started answering: the model, prompt and inputs it decided on."""

    v: Literal[1] = 1
    turn_id: Id
    user_id: int
    model: ModelId
    input_message_ids: tuple[int, ...]
    personality: str | None = None
    thinking_budget_tokens: int | None = None
    max_output_tokens: int
    thinking_level: str | None = None
    """The user's thinking level (``low``...``max``) when thinking is on; ``None``: off or
    the operator's fixed ``thinking_budget_tokens``."""
    context_tokens_estimate: int | None = None
    language: str | None = None
    """The language the turn's notices are worded in (``en``, ``ru``: ``actors.texts``),
    decided with the turn so a turn resumed after a crash speaks as it started; None
    (recorded before languages): English."""


class AssistantMessageCompleted(
    Envelope, tag="thread.assistant_message_completed", frozen=True, kw_only=True
):
    """One Claude response of a turn finished (a turn has one per tool round trip).

    ``usage`` is that response's full usage; ``stop_reason`` is the API's (``end_turn``,
    ``tool_use``, ``max_tokens``, ``pause_turn``...). ``content`` is the response's content
    blocks as the API returned them (thinking with its signature, tool_use...) for a step the
    turn continues after (``tool_use``, ``pause_turn``): the next request sends them back
    unchanged, and a worker resuming the turn after a crash rebuilds it from them.

    ``final`` marks the turn's last call: its answer is recorded (and charged) before it is
    sent, and ``thread.turn_completed`` then names the messages that show it, so a worker
    that dies in between sends the recorded answer instead of calling the model again.
    ``telegram_message_ids`` are the messages sent for this text by a worker of before
    ``final`` (which recorded the answer after sending it); empty since. ``answer_before``
    and ``answer_after`` are, for the final call, what the message showing the answer has
    before and after the turn's text (its steps' ``text`` stripped): the trace line, the
    sources, a cap note; empty from a worker of before them, whose recovery sends the text.
    """

    v: Literal[1] = 1
    turn_id: Id
    step: int
    user_id: int
    model: ModelId
    api_message_id: str
    text: str
    stop_reason: str
    usage: Usage
    tool_use_ids: tuple[str, ...] = ()
    telegram_message_ids: tuple[int, ...] = ()
    billing_operation_id: str | None = None
    content: tuple[dict[str, Any], ...] = ()
    final: bool = False
    answer_before: str = ""
    answer_after: str = ""


class TurnCompleted(Envelope, tag="thread.turn_completed", frozen=True, kw_only=True):
    """The turn ended normally; its usage is in its ``assistant_message_completed`` events.

    ``telegram_message_ids`` are the messages that show the answer, and ``answer`` their text
    as sent (every step's text with the turn's tool and source lines); empty when recorded
    by a worker of before ``answer`` (the answer's messages were then named by the last
    ``assistant_message_completed``)."""

    v: Literal[1] = 1
    turn_id: Id
    user_id: int
    steps: int
    telegram_message_ids: tuple[int, ...] = ()
    answer: str = ""


class TurnCancelled(Envelope, tag="thread.turn_cancelled", frozen=True, kw_only=True):
    """The turn was stopped; ``partial_usage`` is what the interrupted call consumed.

    ``reason`` is one of :data:`CANCEL_REASONS`; only ``partial_usage`` is charged (the
    completed steps were charged when they completed).
    """

    v: Literal[1] = 1
    turn_id: Id
    user_id: int
    reason: str
    model: ModelId
    step: int = 0
    partial_usage: Usage = Usage()
    partial_text: str = ""
    billing_operation_id: str | None = None


class TurnFailed(Envelope, tag="thread.turn_failed", frozen=True, kw_only=True):
    """The turn ended with an error; ``error_class`` is one of :data:`TURN_ERROR_CLASSES`.

    v2 replaced v1's free-text ``error`` with ``error_class`` + ``message`` + ``retryable``
    (upcaster in :mod:`events.upcasting`).
    """

    v: Literal[2] = 2
    turn_id: Id
    user_id: int
    error_class: str
    message: str
    retryable: bool = False
    model: ModelId | None = None
    step: int = 0
    partial_usage: Usage = Usage()
    billing_operation_id: str | None = None

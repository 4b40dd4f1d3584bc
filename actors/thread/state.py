"""The state of one thread actor, stored in its changelog-backed table under the thread key.

History is a bounded list of message records (the context builder trims further, to the
model's window); ``running`` is the turn in flight, written before the model is called so a
restarted worker knows a turn was interrupted; ``processed`` holds the ids of the latest
inbox commands, so a redelivered command is recognised and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

import msgspec

from events.thread import TurnStarted

MAX_HISTORY_ITEMS: Final = 400
MAX_HISTORY_CHARS: Final = 1_600_000  # ~400K tokens: beyond any context window
MAX_PROCESSED_IDS: Final = 512


class FileNote(msgspec.Struct, frozen=True, kw_only=True):
    """An attachment of a user message, by reference.

    ``file_id`` is Telegram's id (what the message carried). Once the file is in the thread's
    file store (``thread.file_received``), ``stored_id`` is our id (what tools and the model
    name it by) with what the store kept (kind, MIME type after any conversion, size, an
    estimate of its context tokens); once uploaded to the Files API (``thread.file_uploaded``)
    the reference and its expiry; a voice message or video note carries its transcript.
    """

    kind: str
    file_id: str
    mime_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    unique_id: str | None = None
    stored_id: str | None = None
    owner_user_id: int | None = None
    stored_kind: str | None = None
    stored_name: str | None = None
    stored_mime_type: str | None = None
    stored_size: int | None = None
    tokens: int | None = None
    provider_file_id: str | None = None
    provider_expires_at: datetime | None = None
    transcript: str | None = None
    duration_seconds: float | None = None

    @property
    def id(self) -> str:
        """The id the model and tools use: ours once stored, else Telegram's."""
        return self.stored_id or self.file_id

    def upload_live(self, now: datetime, margin_seconds: float = 600.0) -> bool:
        """A Files API reference that is still valid ``margin_seconds`` from ``now``."""
        if self.provider_file_id is None or self.provider_expires_at is None:
            return False
        return (self.provider_expires_at - now).total_seconds() > margin_seconds


class HistoryItem(msgspec.Struct, frozen=True, kw_only=True):
    """One message of the conversation: a user message or an assistant answer."""

    role: Literal["user", "assistant"]
    text: str
    message_ids: tuple[int, ...] = ()
    files: tuple[FileNote, ...] = ()
    turn_id: str | None = None
    sent_at: datetime | None = None
    """When the user sent it (user items; None in states stored before this field)."""
    header: str = ""
    """Who wrote it (groups), what it replies to or quotes, its forward origin
    (:mod:`actors.thread.message_header`)."""
    edited: bool = False


class ToolCallNote(msgspec.Struct, frozen=True, kw_only=True):
    """A client tool call of the running turn and how far it got (a fold of its events)."""

    tool_use_id: str
    tool_name: str
    step: int
    attempt: int = 1
    status: Literal["requested", "completed", "failed"] = "requested"
    output: str = ""
    is_error: bool = False

    @property
    def finished(self) -> bool:
        return self.status != "requested"


class RunningTurn(msgspec.Struct, frozen=True, kw_only=True):
    """The turn in flight: its start event (the cause of what follows) and its inputs.

    ``transcript`` holds the assistant content of the steps the turn continued after
    (``tool_use``, ``pause_turn``), exactly as the API returned it, and ``tool_calls`` the
    client tool calls of those steps: together they rebuild the rest of the request, so a
    worker resuming the turn after a crash continues it without running a finished call again.
    """

    started: TurnStarted
    chat_id: int
    message_thread_id: int = 0
    attempt: int = 1
    steps: int = 0
    text: str = ""
    telegram_message_ids: tuple[int, ...] = ()
    transcript: tuple[dict[str, Any], ...] = ()
    tool_calls: tuple[ToolCallNote, ...] = ()
    answered: bool = False
    """The turn's last call is recorded (``final``): ``text`` is its whole answer, shown
    between ``answer_before`` and ``answer_after`` (see :mod:`actors.thread.answer_frame`),
    and all that is left is sending it and recording the turn's completion."""
    answer_before: str = ""
    answer_after: str = ""

    @property
    def turn_id(self) -> str:
        return self.started.turn_id


class ThreadState(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    opened: bool = False
    chat_id: int = 0
    message_thread_id: int = 0
    chat_type: str = "private"
    is_forum: bool = False
    model_override: str | None = None
    personality_override: str | None = None
    history: tuple[HistoryItem, ...] = ()
    running: RunningTurn | None = None
    processed: tuple[str, ...] = ()
    topic_named: bool = False
    topic_title: str | None = None
    turns: int = 0
    generated: tuple[FileNote, ...] = ()
    """Files tools made in this conversation (``thread.file_generated``), oldest first, at
    most :data:`MAX_GENERATED_FILES`; their bytes are in the file store."""

    def has_processed(self, command_id: str) -> bool:
        return command_id in self.processed

    def mark_processed(self, *command_ids: str) -> ThreadState:
        new = tuple(c for c in command_ids if c not in self.processed)
        if not new:
            return self
        kept = (self.processed + new)[-MAX_PROCESSED_IDS:]
        return msgspec.structs.replace(self, processed=kept)

    def message_in_history(self, message_id: int) -> bool:
        return any(message_id in item.message_ids for item in self.history if item.role == "user")


MAX_GENERATED_FILES: Final = 200


def bounded(history: tuple[HistoryItem, ...]) -> tuple[HistoryItem, ...]:
    """Drop the oldest items beyond the item and character bounds."""
    items = history[-MAX_HISTORY_ITEMS:]
    total = 0
    for index in range(len(items) - 1, -1, -1):
        total += len(items[index].text)
        if total > MAX_HISTORY_CHARS:
            return items[index + 1 :]
    return items


def initial_state(key: str) -> ThreadState:
    return ThreadState(key=key)


_encoder: Final = msgspec.json.Encoder()
_decoder: Final = msgspec.json.Decoder(ThreadState)


def encode_state(state: ThreadState) -> bytes:
    return _encoder.encode(state)


def decode_state(data: bytes) -> ThreadState:
    return _decoder.decode(data)

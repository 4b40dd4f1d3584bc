"""evolve(state, event) -> state: the thread's state as a fold of its events."""

from __future__ import annotations

import msgspec

from actors.thread.file_events import evolve_file, with_generated
from actors.thread.message_header import message_header
from actors.thread.state import FileNote, HistoryItem, RunningTurn, ThreadState, bounded
from actors.thread.tool_calls import evolve_running
from events.catalog import ThreadEvent
from events.files import FileGenerated, FileReceived, FileTranscribed, FileUploaded
from events.messages import UserMessage
from events.thread import (
    AssistantMessageCompleted,
    ConversationReset,
    SettingsOverridden,
    ThreadOpened,
    TopicNamed,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserMessageAccepted,
    UserMessageEdited,
)
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested

replace = msgspec.structs.replace


def files_of(message: UserMessage) -> tuple[FileNote, ...]:
    return tuple(
        FileNote(
            kind=a.kind,
            file_id=a.file_id,
            mime_type=a.mime_type,
            file_name=a.file_name,
            file_size=a.file_size,
            unique_id=a.file_unique_id,
            duration_seconds=float(a.duration_seconds) if a.duration_seconds else None,
        )
        for a in message.attachments
    )


def _append_assistant(state: ThreadState, turn_id: str, text: str) -> tuple[HistoryItem, ...]:
    if not text:
        return state.history
    history = state.history
    last = history[-1] if history else None
    if last is not None and last.role == "assistant" and last.turn_id == turn_id:
        return (*history[:-1], replace(last, text=last.text + text))
    return bounded((*history, HistoryItem(role="assistant", text=text, turn_id=turn_id)))


def _for_running(state: ThreadState, turn_id: str) -> bool:
    return state.running is not None and state.running.turn_id == turn_id


def evolve(state: ThreadState, event: ThreadEvent) -> ThreadState:
    """Apply one thread event (a tool call event updates the running turn; a file event the
    history's note of that file)."""
    if isinstance(event, UserMessageAccepted):
        m = event.message
        item = HistoryItem(
            role="user",
            text=m.text,
            message_ids=(m.message_id,),
            files=files_of(m),
            sent_at=m.sent_at,
            header=message_header(m, state.chat_type),
        )
        return replace(state, history=bounded((*state.history, item)))
    if isinstance(event, TurnStarted):
        started = RunningTurn(
            started=event, chat_id=state.chat_id, message_thread_id=state.message_thread_id
        )
        return replace(state, running=started, turns=state.turns + 1)
    if isinstance(event, AssistantMessageCompleted):
        history = _append_assistant(state, event.turn_id, event.text)
        running = state.running
        if running is not None and running.turn_id == event.turn_id:
            running = replace(
                running,
                steps=max(running.steps, event.step),
                text=running.text + event.text,
                telegram_message_ids=running.telegram_message_ids + event.telegram_message_ids,
                answered=running.answered or event.final,
                answer_before=event.answer_before if event.final else running.answer_before,
                answer_after=event.answer_after if event.final else running.answer_after,
            )
            running = evolve_running(running, event)
        return replace(state, history=history, running=running)
    if isinstance(event, TurnCompleted | TurnFailed):
        if not _for_running(state, event.turn_id):
            return state
        assert state.running is not None
        if isinstance(event, TurnFailed) and state.running.answered:
            # the recorded answer never reached the chat (Telegram refused it): the model
            # must not take it for said
            kept = tuple(
                item
                for item in state.history
                if not (item.role == "assistant" and item.turn_id == event.turn_id)
            )
            return replace(state, running=None, history=kept)
        return replace(state, running=None)
    if isinstance(event, TurnCancelled):
        if not _for_running(state, event.turn_id):
            return state
        history = _append_assistant(state, event.turn_id, event.partial_text)
        return replace(state, running=None, history=history)
    if isinstance(event, ThreadOpened):
        return replace(
            state,
            opened=True,
            chat_id=event.chat_id,
            message_thread_id=event.message_thread_id,
            chat_type=event.chat_type,
            is_forum=event.is_forum,
            topic_title=event.title or state.topic_title,
        )
    if isinstance(event, UserMessageEdited):
        m = event.message
        history = tuple(
            replace(item, text=m.text, edited=True)
            if item.role == "user" and m.message_id in item.message_ids
            else item
            for item in state.history
        )
        return replace(state, history=history)
    if isinstance(event, SettingsOverridden):
        return replace(state, model_override=event.model, personality_override=event.personality)
    if isinstance(event, ConversationReset):
        if event.topic_deleted:  # the thread ends: a message under the same id starts afresh
            return ThreadState(key=state.key, processed=state.processed)
        return replace(state, history=(), generated=())
    if isinstance(event, FileGenerated):
        return replace(state, generated=with_generated(state.generated, event))
    if isinstance(event, TopicNamed):
        return replace(state, topic_named=True, topic_title=event.title)
    if isinstance(event, FileReceived | FileUploaded | FileTranscribed):
        return evolve_file(state, event)
    if isinstance(event, ToolCallRequested | ToolCallCompleted | ToolCallFailed):
        if state.running is None or state.running.turn_id != event.turn_id:
            return state
        return replace(state, running=evolve_running(state.running, event))
    return state


def evolve_all(state: ThreadState, events: list[ThreadEvent]) -> ThreadState:
    for event in events:
        state = evolve(state, event)
    return state

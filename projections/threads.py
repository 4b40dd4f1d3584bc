"""The ``threads`` projection: chats, threads, messages (with edits), turns, model calls,
tool calls and files, from ``bot.thread.events`` (turns and their model calls in
:mod:`projections.turns`).

Every thread event also moves the thread's ``last_activity_at``. Assistant answers become
``messages`` rows keyed by the first Telegram message id they were sent as (a tool-use step
that sent nothing is only a ``model_calls`` row).
"""

from __future__ import annotations

from typing import Any

from events import files, thread, tools
from events.envelope import Envelope
from events.messages import UserMessage
from events.usage import Usage
from projections.rows import Insert, Patch, RowOp
from projections.source import Source, to_json
from projections.tables import (
    CHATS,
    FILES,
    MESSAGE_EDITS,
    MESSAGES,
    MODEL_CALLS,
    THREADS,
    TOOL_CALLS,
)


def touch_thread(e: Envelope, src: Source, values: dict[str, Any] | None = None) -> Patch:
    row = {} if values is None else values
    row["last_activity_at"] = e.occurred_at
    return Patch(THREADS.name, "row", (e.key,), row, src.offset)


def chat_id(key: str) -> int:
    return int(key.partition(":")[0])


def _message_content(m: UserMessage) -> dict[str, Any]:
    return {
        "text": m.text,
        "attachments": to_json(m.attachments),
    }


def model_call(
    e: Envelope,
    *,
    kind: str,
    turn_id: Any,
    step: int | None,
    user_id: int | None,
    model: str | None,
    usage: Usage,
    billing_operation_id: str | None,
) -> Insert:
    return Insert(
        MODEL_CALLS.name,
        {
            "event_id": e.id,
            "thread_key": e.key,
            "turn_id": turn_id,
            "step": step,
            "user_id": user_id,
            "model": model,
            "kind": kind,
            "occurred_at": e.occurred_at,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_write_5m_tokens": usage.cache_creation_5m_input_tokens,
            "cache_write_1h_tokens": usage.cache_creation_1h_input_tokens,
            "cache_read_tokens": usage.cache_read_input_tokens,
            "thinking_tokens": usage.thinking_tokens,
            "web_search_requests": usage.web_search_requests,
            "web_fetch_requests": usage.web_fetch_requests,
            "billing_operation_id": billing_operation_id,
        },
    )


# --------------------------------------------------------------------------- thread


def opened(e: thread.ThreadOpened, src: Source) -> list[RowOp]:
    values: dict[str, Any] = {
        "chat_id": e.chat_id,
        "message_thread_id": e.message_thread_id,
        "chat_type": e.chat_type,
        "is_forum": e.is_forum,
        "opened_by_user_id": e.opened_by_user_id,
        "opened_at": e.occurred_at,
        "deleted_at": None,  # a topic deleted under this key before is open again
    }
    if e.title is not None:
        values.update(title=e.title, title_source="opened")
    chat = {"chat_type": e.chat_type, "is_forum": e.is_forum, "first_seen_at": e.occurred_at}
    return [touch_thread(e, src, values), Patch(CHATS.name, "merge", (e.chat_id,), chat, None)]


def topic_named(e: thread.TopicNamed, src: Source) -> list[RowOp]:
    values = {"title": e.title, "title_source": "named", "title_model": e.model}
    call = model_call(
        e,
        kind="topic_naming",
        turn_id=None,
        step=None,
        user_id=None,
        model=e.model,
        usage=e.usage,
        billing_operation_id=e.billing_operation_id,
    )
    return [touch_thread(e, src, values), call]


def settings_overridden(e: thread.SettingsOverridden, src: Source) -> list[RowOp]:
    values = {"model_override": e.model, "personality_override": e.personality}
    return [touch_thread(e, src, values)]


def conversation_reset(e: thread.ConversationReset, src: Source) -> list[RowOp]:
    """A reset; with ``topic_deleted`` the forum topic is gone (``deleted_at``), so a chat's
    topics (``/clear`` of all topics) no longer list it."""
    values: dict[str, Any] = {"reset_at": e.occurred_at, "reset_offset": src.offset}
    if e.topic_deleted:
        values["deleted_at"] = e.occurred_at
    return [touch_thread(e, src, values)]


# --------------------------------------------------------------------------- messages


def message_accepted(e: thread.UserMessageAccepted, src: Source) -> list[RowOp]:
    m = e.message
    values = _message_content(m)
    reply = m.reply_to
    values.update(
        thread_key=e.key,
        role="user",
        status="accepted",
        user_id=m.sender.user_id,
        sent_at=m.sent_at,
        reply_to_message_id=None if reply is None else reply.message_id,
        quote=None if reply is None else reply.quote,
        forward_origin=None if m.forward_origin is None else to_json(m.forward_origin),
        media_group_id=m.media_group_id,
        seq=src.offset,
    )
    patch = Patch(MESSAGES.name, "row", (m.chat_id, m.message_id), values, src.offset)
    return [patch, touch_thread(e, src)]


def message_edited(e: thread.UserMessageEdited, src: Source) -> list[RowOp]:
    m = e.message
    values = _message_content(m)
    values["edited_at"] = e.edited_at
    edit = {
        "event_id": e.id,
        "chat_id": m.chat_id,
        "message_id": m.message_id,
        "thread_key": e.key,
        "edited_at": e.edited_at,
        "source_offset": src.offset,
        **_message_content(m),
    }
    return [
        Patch(MESSAGES.name, "row", (m.chat_id, m.message_id), values, src.offset),
        Insert(MESSAGE_EDITS.name, edit),
        touch_thread(e, src),
    ]


def message_rejected(e: thread.UserMessageRejected, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "role": "user",
        "status": "rejected",
        "user_id": e.user_id,
        "rejection_reason": e.reason,
    }
    key = (chat_id(e.key), e.message_id)
    return [Patch(MESSAGES.name, "row", key, values, src.offset), touch_thread(e, src)]


# --------------------------------------------------------------------------- tools


def _tool(e: Envelope, tool_use_id: str, values: dict[str, Any], src: Source) -> Patch:
    return Patch(TOOL_CALLS.name, "row", (tool_use_id,), values, src.offset)


def tool_requested(e: tools.ToolCallRequested, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "turn_id": e.turn_id,
        "step": e.step,
        "user_id": e.user_id,
        "tool_name": e.tool_name,
        "input": to_json(e.input),
        "server_side": e.server_side,
        "paid": e.paid,
        "requested_at": e.occurred_at,
        "status": "requested",
    }
    return [_tool(e, e.tool_use_id, values, src), touch_thread(e, src)]


def tool_completed(e: tools.ToolCallCompleted, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "turn_id": e.turn_id,
        "user_id": e.user_id,
        "tool_name": e.tool_name,
        "status": "completed",
        "completed_at": e.occurred_at,
        "duration_ms": e.duration_ms,
        "output": e.output,
        "quantities": to_json(e.quantities),
        "file_ids": list(e.file_ids),
        "sandbox_id": e.sandbox_id,
        "billing_operation_id": e.billing_operation_id,
    }
    return [_tool(e, e.tool_use_id, values, src), touch_thread(e, src)]


def tool_failed(e: tools.ToolCallFailed, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "turn_id": e.turn_id,
        "user_id": e.user_id,
        "tool_name": e.tool_name,
        "status": "failed",
        "completed_at": e.occurred_at,
        "duration_ms": e.duration_ms,
        "error_class": e.error_class,
        "error_message": e.message,
        "quantities": to_json(e.quantities),
        "billing_operation_id": e.billing_operation_id,
    }
    return [_tool(e, e.tool_use_id, values, src), touch_thread(e, src)]


# --------------------------------------------------------------------------- files


def _file(file_id: Any, values: dict[str, Any], src: Source) -> Patch:
    return Patch(FILES.name, "row", (file_id,), values, src.offset)


def file_received(e: files.FileReceived, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "origin": "user",
        "user_id": e.user_id,
        "message_id": e.message_id,
        "kind": e.kind,
        "telegram_file_id": e.telegram_file_id,
        "telegram_file_unique_id": e.telegram_file_unique_id,
        "mime_type": e.mime_type,
        "file_name": e.file_name,
        "size_bytes": e.stored_size if e.stored_size is not None else e.file_size,
        "sha256": e.sha256,
        "turn_id": e.turn_id,
        "created_at": e.occurred_at,
    }
    return [_file(e.file_id, values, src), touch_thread(e, src)]


def file_transcribed(e: files.FileTranscribed, src: Source) -> list[RowOp]:
    """The transcript of a voice message or video note is the file's preview."""
    values = {"thread_key": e.key, "preview": e.text[:4000]}
    return [_file(e.file_id, values, src), touch_thread(e, src)]


def file_uploaded(e: files.FileUploaded, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "provider": e.provider,
        "provider_file_id": e.provider_file_id,
        "uploaded_at": e.uploaded_at,
        "expires_at": e.expires_at,
    }
    return [_file(e.file_id, values, src), touch_thread(e, src)]


def file_generated(e: files.FileGenerated, src: Source) -> list[RowOp]:
    values = {
        "thread_key": e.key,
        "origin": "tool",
        "turn_id": e.turn_id,
        "tool_use_id": e.tool_use_id,
        "tool_name": e.tool_name,
        "file_name": e.file_name,
        "mime_type": e.mime_type,
        "size_bytes": e.size_bytes,
        "sha256": e.sha256,
        "storage_uri": e.storage_uri,
        "preview": e.preview,
        "created_at": e.occurred_at,
    }
    return [_file(e.file_id, values, src), touch_thread(e, src)]


def file_delivered(e: files.FileDelivered, src: Source) -> list[RowOp]:
    values: dict[str, Any] = {
        "thread_key": e.key,
        "delivered_at": e.occurred_at,
        "delivered_chat_id": e.chat_id,
        "delivered_message_id": e.telegram_message_id,
    }
    if e.telegram_file_id is not None:
        values["telegram_file_id"] = e.telegram_file_id
    return [_file(e.file_id, values, src), touch_thread(e, src)]

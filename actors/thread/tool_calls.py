"""The tool loop's state: a running turn's transcript and tool calls as a fold of its events,
and the request messages rebuilt from them.

A step the turn continues after (``tool_use``, ``pause_turn``) records its content blocks in
``assistant_message_completed``; each client ``tool_use`` block gets a
``tool_call_requested`` and then exactly one ``tool_call_completed`` or ``tool_call_failed``.
The continuation of the request is therefore a function of the events alone: the assistant
content as the API returned it (thinking blocks and their signatures unchanged), then one
user message with a ``tool_result`` per ``tool_use`` (failures as ``is_error``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec

from actors.thread.state import RunningTurn, ToolCallNote
from events.thread import AssistantMessageCompleted
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested

MAX_OUTPUT_CHARS: Final = 20_000
"""A tool's text output given back to the model (and kept in the event and the running
turn) is cut to this many characters, with a note saying so."""

replace = msgspec.structs.replace


def truncate_output(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    cut = len(text) - MAX_OUTPUT_CHARS
    return text[:MAX_OUTPUT_CHARS] + f"\n[... {cut} more characters cut]"


def client_tool_uses(content: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ``tool_use`` blocks (client tools, run by us) of an assistant content list."""
    return [b for b in content if b.get("type") == "tool_use"]


def _with_note(running: RunningTurn, note: ToolCallNote) -> RunningTurn:
    calls = [c for c in running.tool_calls if c.tool_use_id != note.tool_use_id]
    return replace(running, tool_calls=(*calls, note))


def _note(running: RunningTurn, tool_use_id: str) -> ToolCallNote | None:
    return next((c for c in running.tool_calls if c.tool_use_id == tool_use_id), None)


def evolve_running(
    running: RunningTurn,
    event: AssistantMessageCompleted | ToolCallRequested | ToolCallCompleted | ToolCallFailed,
) -> RunningTurn:
    """The running turn after one of its step or tool call events."""
    if isinstance(event, AssistantMessageCompleted):
        if not event.content:
            return running
        message = {"role": "assistant", "content": [dict(b) for b in event.content]}
        return replace(running, transcript=(*running.transcript, message))
    if isinstance(event, ToolCallRequested):
        if event.server_side:
            return running
        known = _note(running, event.tool_use_id)
        if known is not None and (known.finished or known.attempt >= event.attempt):
            return running
        return _with_note(
            running,
            ToolCallNote(
                tool_use_id=event.tool_use_id,
                tool_name=event.tool_name,
                step=event.step,
                attempt=event.attempt,
            ),
        )
    known = _note(running, event.tool_use_id)
    if known is None or known.finished:
        return running
    if isinstance(event, ToolCallCompleted):
        done = replace(known, status="completed", output=event.output, is_error=False)
    else:
        done = replace(known, status="failed", output=failure_text(event), is_error=True)
    return _with_note(running, done)


def failure_text(event: ToolCallFailed) -> str:
    """What the model is told about a failed call."""
    return f"{event.error_class}: {event.message}"


def result_block(
    tool_use_id: str, output: str, *, is_error: bool, blocks: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A ``tool_result`` content block (extra ``blocks``, e.g. an image, after the text)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": output or "(no output)"}]
    content.extend(dict(b) for b in blocks)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if is_error:
        block["is_error"] = True
    return block


def unfinished_calls(running: RunningTurn) -> list[ToolCallNote]:
    """Calls requested but neither completed nor failed: a crash interrupted them."""
    return [c for c in running.tool_calls if not c.finished]


def continuation_of(
    running: RunningTurn, extra_blocks: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """The messages after the conversation: each continued step's content, then the results
    of its tool calls. ``extra_blocks`` adds non-text result content (images) by
    ``tool_use_id`` that the events do not keep."""
    messages: list[dict[str, Any]] = []
    for message in running.transcript:
        messages.extend(step_messages(running, message, extra_blocks))
    return messages


def step_messages(
    running: RunningTurn,
    message: Mapping[str, Any],
    extra_blocks: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """One continued step: its assistant message, then its finished calls' results."""
    extra = extra_blocks or {}
    notes = {c.tool_use_id: c for c in running.tool_calls}
    results = []
    for use in client_tool_uses(message["content"]):
        note = notes.get(str(use.get("id")))
        if note is None or not note.finished:
            continue
        results.append(
            result_block(
                note.tool_use_id,
                note.output,
                is_error=note.is_error,
                blocks=extra.get(note.tool_use_id, ()),
            )
        )
    messages = [{"role": message["role"], "content": list(message["content"])}]
    if results:
        messages.append({"role": "user", "content": results})
    return messages

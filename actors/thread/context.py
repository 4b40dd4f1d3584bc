"""Building the Messages API request of a turn: the system prompt
(:mod:`actors.thread.system_prompt`), the history trimmed to the model's context window
(:mod:`actors.thread.token_budget`), prompt-caching breakpoints (placed by
:mod:`actors.thread.cache_points`), thinking.

Token counts are estimated on the safe side of the API's tokenizer; a request the API still
finds too long fails as ``context_overflow`` with a hint to start over.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from actors.billing.pricing import PRICE_TABLES
from actors.thread.cache_points import (
    CacheTtl,
    choose_ttl,
    place_cache_breakpoints,
    recent_gaps,
)
from actors.thread.file_blocks import note_blocks
from actors.thread.message_header import with_header
from actors.thread.state import FileNote, HistoryItem, ThreadState
from actors.thread.system_prompt import system_prompt
from actors.thread.token_budget import (
    ContentBlock,
    check_input_files,
    context_budget,
    estimate_item_tokens,
    estimate_text_tokens,
    files_cost,
    plan_output,
    trim_history,
)


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """Arguments for ``client.messages.stream(**kwargs)`` and what the planner decided."""

    kwargs: dict[str, Any]
    context_tokens: int
    history_items: int
    max_tokens: int
    thinking_budget: int | None
    thinking_level: str = "off"
    cache_ttl: CacheTtl = "5m"

    @property
    def thinking(self) -> bool:
        return "thinking" in self.kwargs

    def step_kwargs(self, continuation: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        """The arguments of a later step of the turn: the history, then ``continuation``
        (the steps so far: tool uses and results, a paused or cut-off answer), with the
        breakpoints placed again so this step reads what the previous one wrote."""
        kwargs = dict(self.kwargs)
        tools, system, messages = place_cache_breakpoints(
            kwargs.get("tools") or (),
            kwargs["system"],
            [*kwargs["messages"], *continuation],
            self.cache_ttl,
        )
        kwargs["system"], kwargs["messages"] = system, messages
        if tools:
            kwargs["tools"] = tools
        return kwargs


def _not_taken_in(note: FileNote) -> str:
    name = f" {note.file_name}" if note.file_name else ""
    return (
        f"[{note.kind.replace('_', ' ')}{name}: attached, but it could not be read; "
        "tell the user and ask them to send it again]"
    )


def _file_placeholder(note: FileNote) -> str:
    name = f" {note.file_name}" if note.file_name else ""
    return f"[{note.kind}{name} attached earlier]"


@dataclass(frozen=True, slots=True)
class FileView:
    """What the request builder needs to show stored files: the time (a Files API upload
    counts while it has not expired) and the files that cannot be read, with why."""

    now: datetime
    unavailable: Mapping[str, str]
    input_message_ids: frozenset[int] = frozenset()
    """The turn's own input: a file of it that was not taken in is reported as unreadable;
    an older one (sent before the file store) keeps the short placeholder."""


def _user_blocks(
    item: HistoryItem,
    file_blocks: Mapping[int, Sequence[ContentBlock]],
    files: FileView | None = None,
) -> list[ContentBlock]:
    blocks: list[ContentBlock] = []
    attached = False
    for message_id in item.message_ids:
        for block in file_blocks.get(message_id, ()):
            blocks.append(dict(block))
            attached = True
    if files is not None:
        for note in item.files:
            shown = note_blocks(note, files.now, files.unavailable)
            current = not files.input_message_ids.isdisjoint(item.message_ids)
            fallback = _not_taken_in(note) if current else _file_placeholder(note)
            blocks.extend(shown or [{"type": "text", "text": fallback}])
    elif item.files and not attached:
        blocks.extend({"type": "text", "text": _file_placeholder(n)} for n in item.files)
    text = with_header(item.text, item.header, item.edited)
    if text.strip():
        blocks.append({"type": "text", "text": text})
    return blocks


def history_messages(
    items: Sequence[HistoryItem],
    file_blocks: Mapping[int, Sequence[ContentBlock]],
    files: FileView | None = None,
) -> list[dict[str, Any]]:
    """Alternating user/assistant messages; consecutive items of one role are merged.

    With ``files`` (the turn took its files in: the file store is configured), every file is
    shown from its history note (:mod:`actors.thread.file_blocks`); without, only the
    current input's ``file_blocks`` (inline) and a placeholder for older files."""
    messages: list[dict[str, Any]] = []
    for item in items:
        if item.role == "user":
            blocks = _user_blocks(item, file_blocks, files)
        else:
            text = item.text.rstrip()
            blocks = [{"type": "text", "text": text}] if text else []
        if not blocks:
            continue
        if messages and messages[-1]["role"] == item.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": item.role, "content": blocks})
    while messages and messages[0]["role"] != "user":
        messages.pop(0)
    return messages


def price_ratios(model: str) -> dict[str, Decimal]:
    """Cache write/read prices relative to input for ``model`` (the latest price table);
    the API's usual 1.25 / 2 / 0.1 for a model the table does not know."""
    price = PRICE_TABLES[-1].models.get(model)
    if price is None or not price.input:
        return {"write_5m": Decimal("1.25"), "write_1h": Decimal("2"), "read": Decimal("0.1")}
    return {
        "write_5m": price.cache_write_5m / price.input,
        "write_1h": price.cache_write_1h / price.input,
        "read": price.cache_read / price.input,
    }


def cache_ttl_for(model: str, kept: Sequence[HistoryItem], context_tokens: int) -> CacheTtl:
    """The prompt-cache lifetime of this turn for the thread's pace (cache_points rule)."""
    gaps = recent_gaps([item.sent_at for item in kept if item.role == "user"])
    newest = sum(estimate_item_tokens(item) for item in kept[-2:])
    return choose_ttl(gaps, prefix_tokens=context_tokens, new_tokens=newest, **price_ratios(model))


def build_request(
    state: ThreadState,
    *,
    model: str,
    personality: str | None,
    thinking_budget: int | None = None,
    file_blocks: Mapping[int, Sequence[ContentBlock]] | None = None,
    continuation: Sequence[dict[str, Any]] = (),
    thinking_level: str | None = None,
    tools: Sequence[Mapping[str, Any]] = (),
    betas: Sequence[str] = (),
    files: FileView | None = None,
) -> TurnRequest:
    """The request for the next model call of the running turn.

    ``tools`` are offered as given (``betas``: the beta headers they need); prompt-cache
    breakpoints go after the tools, the system prompt, the turn's input (or the previous
    turn's) and the last message, all with the lifetime cheaper for the thread's pace (see
    :mod:`actors.thread.cache_points`). Thinking follows ``thinking_level`` (else the fixed
    ``thinking_budget``). ``continuation`` holds the messages that continue a turn (tool
    steps, max_tokens, pause_turn); a later step's arguments are
    :meth:`TurnRequest.step_kwargs`.
    """
    system = system_prompt(personality, [str(t.get("name", "")) for t in tools], model)
    plan = plan_output(model, thinking_level, thinking_budget)
    max_tokens = plan.max_tokens
    tool_tokens = sum(estimate_text_tokens(json.dumps(tool, default=str)) for tool in tools)
    budget = context_budget(model, max_tokens, system) - tool_tokens
    budget -= files_cost(file_blocks or {}, budget)
    if files is not None:
        check_input_files(state.history, budget)
    kept, history_tokens = trim_history(state.history, budget)
    messages = history_messages(kept, file_blocks or {}, files)
    if not messages:
        messages = [{"role": "user", "content": [{"type": "text", "text": "(empty message)"}]}]
    context_tokens = history_tokens + estimate_text_tokens(system) + tool_tokens
    ttl = cache_ttl_for(model, kept, context_tokens)
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": system}],
        "messages": messages,
    }
    kwargs.update(plan.params)
    if tools:
        kwargs["tools"] = [dict(tool) for tool in tools]
    all_betas = sorted({*betas, *plan.betas(with_tools=bool(tools))})
    if all_betas:
        kwargs["betas"] = all_betas  # sent as the anthropic-beta header
    request = TurnRequest(
        kwargs=kwargs,
        context_tokens=context_tokens,
        history_items=len(kept),
        max_tokens=max_tokens,
        thinking_budget=plan.budget_tokens,
        thinking_level=plan.level,
        cache_ttl=ttl,
    )
    return replace(request, kwargs=request.step_kwargs(continuation))


def continuation_messages(
    previous: Sequence[dict[str, Any]],
    stop_reason: str,
    assistant_content: Sequence[ContentBlock],
    text_so_far: str,
    *,
    thinking: bool,
) -> list[dict[str, Any]]:
    """Messages appended to continue a turn.

    ``pause_turn``: the paused assistant content goes back as-is and the API resumes.
    ``max_tokens``: without thinking, the text so far is an assistant prefill the model
    continues; with thinking (no prefill allowed) a short user message asks to go on.
    """
    messages = [dict(m) for m in previous]
    if stop_reason == "pause_turn":
        messages.append({"role": "assistant", "content": [dict(b) for b in assistant_content]})
        return messages
    prefill = text_so_far.rstrip()
    if thinking or not prefill:
        if prefill:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": prefill}]})
        messages.append(
            {
                "role": "user",
                "content": [{"type": "text", "text": "Continue exactly where you stopped."}],
            }
        )
        return messages
    if messages and messages[-1]["role"] == "assistant":
        messages[-1] = {"role": "assistant", "content": [{"type": "text", "text": prefill}]}
    else:
        messages.append({"role": "assistant", "content": [{"type": "text", "text": prefill}]})
    return messages

"""Building the Messages API request of a turn: system prompt and personality, the history
trimmed to the model's context window, prompt-caching breakpoints (placed by
:mod:`actors.thread.cache_points`), thinking.

Token counts are estimated (about 3.5 characters per token, a flat rate per image/PDF page
set), on the safe side of the API's tokenizer; a request the API still finds too long fails
as ``context_overflow`` with a hint to start over.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from actors.billing.pricing import PRICE_TABLES
from actors.thread.cache_points import (
    CacheTtl,
    choose_ttl,
    place_cache_breakpoints,
    recent_gaps,
)
from actors.thread.file_blocks import (
    FILE_TOKENS,
    note_blocks,
    note_tokens,
)
from actors.thread.message_header import with_header
from actors.thread.models import model_spec
from actors.thread.state import FileNote, HistoryItem, ThreadState
from actors.thread.thinking import ThinkingPlan, plan_thinking
from actors.thread.tokens import estimate_tokens

BASE_SYSTEM_PROMPT: Final = (
    "You are Claude, an AI assistant made by Anthropic, talking with a user in Telegram. "
    "Answer in the user's language. Use Markdown sparingly (bold, italic, inline code, fenced "
    "code blocks, links, lists); Telegram shows no tables or headings, so prefer lists."
)
CHARS_PER_TOKEN: Final = 3.5
SAFETY_MARGIN_TOKENS: Final = 1_024
MIN_THINKING_BUDGET: Final = 1_024

ContentBlock = dict[str, Any]


def estimate_text_tokens(text: str) -> int:
    """History text: 3.5 characters a token for ASCII; other scripts by their per-script
    weight (:mod:`actors.thread.tokens`), so a CJK history is not undercounted 3x."""
    flat = math.ceil(len(text) / CHARS_PER_TOKEN) + 4
    return flat if text.isascii() else max(flat, estimate_tokens(text) + 4)


def estimate_item_tokens(item: HistoryItem) -> int:
    text = with_header(item.text, item.header, item.edited)
    return estimate_text_tokens(text) + sum(note_tokens(n) for n in item.files)


TOOL_GUIDANCE: Final[dict[str, str]] = {
    "web_search": "web_search for anything recent, niche or checkable; cite what you use.",
    "web_fetch": "web_fetch to read a page the user linked or a search found.",
    "list_files": "list_files to see the files sent in this conversation and their ids.",
    "preview_file": "preview_file to look into a file (text is free, images and PDFs cost).",
    "analyze_image": "analyze_image to look again at an image sent earlier, by its file id.",
    "analyze_pdf": "analyze_pdf to read pages of a PDF sent earlier, by its file id.",
    "extended_thinking": "extended_thinking for a hard sub-problem before you answer.",
    "self_critique": "self_critique to have a stronger reviewer check a long or risky answer.",
    "estimate_cost": "estimate_cost before expensive work, and tell the user if it is costly.",
    "execute_python": "execute_python to compute, analyse data files or draw charts (saved).",
    "generate_image": "generate_image to draw or edit a picture the user asks for.",
    "transcribe_audio": "transcribe_audio for speech in an audio or video file, by its id.",
    "render_latex": "render_latex when a formula reads better typeset than as text.",
    "deliver_file": "deliver_file to send the user a file a tool made (or one of theirs).",
}
"""One line per tool in the system prompt (only for the tools offered)."""
TOOLS_INTRO: Final = (
    "You have tools. Use one when it clearly helps; answer directly when it does not. "
    "Several independent calls may go in one step. Paid tools cost the user money, so do "
    "not repeat a call that already answered. Use:"
)


def tool_guidance(tool_names: Sequence[str]) -> str:
    lines = [f"- {TOOL_GUIDANCE[name]}" for name in tool_names if name in TOOL_GUIDANCE]
    return TOOLS_INTRO + "\n" + "\n".join(lines) if lines else ""


CLAUDE_IDENTITY: Final = "You are Claude, an AI assistant made by Anthropic,"
GEMINI_IDENTITY: Final = "You are Gemini, an AI assistant made by Google,"
"""Replaces Claude's introduction in the system prompt of a Gemini model."""


def system_prompt(
    personality: str | None, tool_names: Sequence[str] = (), model: str | None = None
) -> str:
    """The system prompt: ours (introducing the model's maker), tool guidance for the tools
    offered, then the personality."""
    prompt = BASE_SYSTEM_PROMPT
    if model is not None and model_spec(model).provider == "google":
        prompt = prompt.replace(CLAUDE_IDENTITY, GEMINI_IDENTITY)
    guidance = tool_guidance(tool_names)
    if guidance:
        prompt += "\n\n" + guidance
    if personality and personality.strip():
        return (
            prompt
            + "\n\nThe user asked you to follow this personality and these instructions:\n"
            + personality.strip()
        )
    return prompt


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


def plan_output(
    model: str, thinking_level: str | None, thinking_budget: int | None
) -> ThinkingPlan:
    """The thinking fields and ``max_tokens`` of a turn's calls: the user's level when one is
    set, else the operator's fixed budget (``THREAD_THINKING_BUDGET``), else no thinking."""
    plan = plan_thinking(model, thinking_level)
    if plan.enabled:
        return plan
    max_tokens, budget = plan_max_tokens(model, thinking_budget)
    if budget is None:
        return plan
    return ThinkingPlan(
        "off", max_tokens, {"thinking": {"type": "enabled", "budget_tokens": budget}}, budget
    )


def plan_max_tokens(model: str, thinking_budget: int | None) -> tuple[int, int | None]:
    """(max_tokens, thinking budget or None) for a model; thinking needs max > budget."""
    spec = model_spec(model)
    if not thinking_budget or not spec.supports_thinking:
        return spec.default_answer_tokens, None
    budget = max(MIN_THINKING_BUDGET, thinking_budget)
    return min(spec.max_output_tokens, budget + spec.default_answer_tokens), budget


def context_budget(model: str, max_tokens: int, system: str) -> int:
    """Input tokens left for the history after the system prompt, answer and a margin."""
    spec = model_spec(model)
    return spec.context_window - max_tokens - estimate_text_tokens(system) - SAFETY_MARGIN_TOKENS


class FilesTooLarge(ValueError):
    """The files of this input alone do not fit in the model's context window; the message
    is what the user reads."""


def block_tokens(block: ContentBlock) -> int:
    """Tokens of a file's content block: an inlined text file by its text (per script, on
    the safe side), an image or PDF at the flat rate."""
    if block.get("type") == "text":
        return estimate_tokens(str(block.get("text", ""))) + 4
    return FILE_TOKENS


def _files_cost(file_blocks: Mapping[int, Sequence[ContentBlock]], budget: int) -> int:
    """Tokens the input's files take beyond the flat rate their history items already
    count; raises :class:`FilesTooLarge` when they cannot fit at all."""
    blocks = [b for found in file_blocks.values() for b in found]
    tokens = sum(block_tokens(b) for b in blocks)
    if tokens > budget:
        what = "file takes" if len(blocks) == 1 else f"{len(blocks)} files take"
        raise FilesTooLarge(
            f"The attached {what} about {tokens:,} tokens, but the model's context window "
            f"has room for about {max(0, budget):,}. Send a smaller file, or only the part "
            "you need."
        )
    return max(0, tokens - FILE_TOKENS * len(blocks))


def _check_input_files(history: Sequence[HistoryItem], budget: int) -> None:
    """Raise :class:`FilesTooLarge` when the files of the newest user message cannot fit in
    the window at all (the newest message is always kept, so it must fit by itself)."""
    newest = next((item for item in reversed(history) if item.role == "user"), None)
    if newest is None or not newest.files:
        return
    tokens = sum(note_tokens(n) for n in newest.files)
    if tokens > budget:
        what = "file takes" if len(newest.files) == 1 else f"{len(newest.files)} files take"
        raise FilesTooLarge(
            f"The attached {what} about {tokens:,} tokens, but the model's context window "
            f"has room for about {max(0, budget):,}. Send a smaller file, or only the part "
            "you need."
        )


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


def trim_history(items: Sequence[HistoryItem], budget: int) -> tuple[list[HistoryItem], int]:
    """The newest items that fit in ``budget`` tokens (always the newest user item)."""
    kept: list[HistoryItem] = []
    total = 0
    for item in reversed(items):
        cost = estimate_item_tokens(item)
        if kept and total + cost > budget:
            break
        kept.append(item)
        total += cost
    kept.reverse()
    while kept and kept[0].role != "user":
        total -= estimate_item_tokens(kept.pop(0))
    return kept, total


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
    budget -= _files_cost(file_blocks or {}, budget)
    if files is not None:
        _check_input_files(state.history, budget)
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

"""Building the Messages API request of a turn: system prompt and personality, the history
trimmed to the model's context window, prompt-caching breakpoints, thinking.

Token counts are estimated (about 3.5 characters per token, a flat rate per image/PDF page
set), on the safe side of the API's tokenizer; a request the API still finds too long fails
as ``context_overflow`` with a hint to start over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from actors.thread.models import model_spec
from actors.thread.state import FileNote, HistoryItem, ThreadState
from actors.thread.thinking import ThinkingPlan, plan_thinking

BASE_SYSTEM_PROMPT: Final = (
    "You are Claude, an AI assistant made by Anthropic, talking with a user in Telegram. "
    "Answer in the user's language. Use Markdown sparingly (bold, italic, inline code, fenced "
    "code blocks, links, lists); Telegram shows no tables or headings, so prefer lists."
)
CHARS_PER_TOKEN: Final = 3.5
FILE_TOKENS: Final = 1_600
SAFETY_MARGIN_TOKENS: Final = 1_024
MIN_THINKING_BUDGET: Final = 1_024
CACHE: Final = {"type": "ephemeral"}

ContentBlock = dict[str, Any]


def estimate_text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + 4


def estimate_item_tokens(item: HistoryItem) -> int:
    return estimate_text_tokens(item.text) + FILE_TOKENS * len(item.files)


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


def system_prompt(personality: str | None, tool_names: Sequence[str] = ()) -> str:
    """The system prompt: ours, tool guidance for the tools offered, then the personality."""
    prompt = BASE_SYSTEM_PROMPT
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

    @property
    def thinking(self) -> bool:
        return "thinking" in self.kwargs


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


def _file_placeholder(note: FileNote) -> str:
    name = f" {note.file_name}" if note.file_name else ""
    return f"[{note.kind}{name} attached earlier]"


def _user_blocks(
    item: HistoryItem, file_blocks: Mapping[int, Sequence[ContentBlock]]
) -> list[ContentBlock]:
    blocks: list[ContentBlock] = []
    attached = False
    for message_id in item.message_ids:
        for block in file_blocks.get(message_id, ()):
            blocks.append(dict(block))
            attached = True
    if item.files and not attached:
        blocks.extend({"type": "text", "text": _file_placeholder(n)} for n in item.files)
    if item.text.strip():
        blocks.append({"type": "text", "text": item.text})
    return blocks


def history_messages(
    items: Sequence[HistoryItem], file_blocks: Mapping[int, Sequence[ContentBlock]]
) -> list[dict[str, Any]]:
    """Alternating user/assistant messages; consecutive items of one role are merged."""
    messages: list[dict[str, Any]] = []
    for item in items:
        if item.role == "user":
            blocks = _user_blocks(item, file_blocks)
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


def _mark_cache(message: dict[str, Any]) -> None:
    content = message["content"]
    if isinstance(content, list) and content:
        content[-1] = {**content[-1], "cache_control": CACHE}


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
) -> TurnRequest:
    """The request for the next model call of the running turn.

    Breakpoints: the system prompt (stable for the whole thread), the end of the previous
    exchange (read back by this call) and the end of this input (written for the next).
    ``continuation`` holds the messages that continue a turn after max_tokens/pause_turn.
    ``tools`` is the ``tools`` list offered to the model (the registry's definitions),
    ``betas`` the beta headers they need; thinking follows ``thinking_level`` (else the
    fixed ``thinking_budget``).
    """
    system = system_prompt(personality, [str(t.get("name", "")) for t in tools])
    plan = plan_output(model, thinking_level, thinking_budget)
    max_tokens = plan.max_tokens
    budget = context_budget(model, max_tokens, system)
    kept, history_tokens = trim_history(state.history, budget)
    messages = history_messages(kept, file_blocks or {})
    if not messages:
        messages = [{"role": "user", "content": [{"type": "text", "text": "(empty message)"}]}]
    _mark_cache(messages[-1])
    if len(messages) >= 3:
        _mark_cache(messages[-2])
    messages.extend(dict(m) for m in continuation)
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": system, "cache_control": CACHE}],
        "messages": messages,
    }
    kwargs.update(plan.params)
    if tools:
        kwargs["tools"] = [dict(t) for t in tools]  # the registry's order: a stable prefix
    all_betas = sorted({*betas, *plan.betas(with_tools=bool(tools))})
    if all_betas:
        kwargs["betas"] = all_betas  # sent as the anthropic-beta header
    return TurnRequest(
        kwargs=kwargs,
        context_tokens=history_tokens + estimate_text_tokens(system),
        history_items=len(kept),
        max_tokens=max_tokens,
        thinking_budget=plan.budget_tokens,
        thinking_level=plan.level,
    )


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

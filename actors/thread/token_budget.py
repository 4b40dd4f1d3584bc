"""The token budget of a turn: estimated token counts (about 3.5 characters per token, a
flat rate per image/PDF page set, on the safe side of the API's tokenizer), ``max_tokens``
and thinking, the input tokens left for the history, and the history trimmed to them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from actors.thread.file_blocks import FILE_TOKENS, note_tokens
from actors.thread.message_header import with_header
from actors.thread.models import model_spec
from actors.thread.state import HistoryItem
from actors.thread.thinking import ThinkingPlan, plan_thinking
from actors.thread.tokens import estimate_tokens

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

    @classmethod
    def of(cls, count: int, tokens: int, budget: int) -> FilesTooLarge:
        what = "file takes" if count == 1 else f"{count} files take"
        return cls(
            f"The attached {what} about {tokens:,} tokens, but the model's context window "
            f"has room for about {max(0, budget):,}. Send a smaller file, or only the part "
            "you need."
        )


def block_tokens(block: ContentBlock) -> int:
    """Tokens of a file's content block: an inlined text file by its text (per script, on
    the safe side), an image or PDF at the flat rate."""
    if block.get("type") == "text":
        return estimate_tokens(str(block.get("text", ""))) + 4
    return FILE_TOKENS


def files_cost(file_blocks: Mapping[int, Sequence[ContentBlock]], budget: int) -> int:
    """Tokens the input's files take beyond the flat rate their history items already
    count; raises :class:`FilesTooLarge` when they cannot fit at all."""
    blocks = [b for found in file_blocks.values() for b in found]
    tokens = sum(block_tokens(b) for b in blocks)
    if tokens > budget:
        raise FilesTooLarge.of(len(blocks), tokens, budget)
    return max(0, tokens - FILE_TOKENS * len(blocks))


def check_input_files(history: Sequence[HistoryItem], budget: int) -> None:
    """Raise :class:`FilesTooLarge` when the files of the newest user message cannot fit in
    the window at all (the newest message is always kept, so it must fit by itself)."""
    newest = next((item for item in reversed(history) if item.role == "user"), None)
    if newest is None or not newest.files:
        return
    tokens = sum(note_tokens(n) for n in newest.files)
    if tokens > budget:
        raise FilesTooLarge.of(len(newest.files), tokens, budget)


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

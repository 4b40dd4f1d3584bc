"""``extended_thinking``: one long, focused think about a hard sub-problem.

While it thinks, the user's draft shows the newest words of its thinking on the call's line.

Offered only to models whose main call cannot think adaptively (Haiku 4.5): Sonnet and Opus
4.6 think inside the answer itself (``/thinking``), so the tool would only add a second,
costlier pass. The executor makes one Claude call on the conversation's model with a large
thinking budget and returns the reasoning and its conclusion; the call's usage (thinking
counted as output) is the tool's quantities, charged to the user. A call interrupted by a
crash is failed, not re-run: it was paid for and its result is lost either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from actors.texts import say
from actors.thread.thinking import offers_thinking_tool
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from events.usage import ModelUsage, ToolQuantities

NAME: Final = "extended_thinking"
THINKING_BUDGET: Final = 12_000
ANSWER_TOKENS: Final = 4_000
MAX_PROBLEM_CHARS: Final = 40_000
FOCUS: Final = ("correctness", "optimization", "edge_cases", "architecture", "debugging")

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "problem": {"type": "string", "description": "The problem to think through, in full."},
        "context": {"type": "string", "description": "Facts, constraints, code or data."},
        "focus": {"type": "string", "enum": list(FOCUS)},
    },
    "required": ["problem"],
}

INSTRUCTIONS: Final = (
    "Think this problem through carefully and completely before answering. Check each step, "
    "consider the edge cases and alternatives, and say where you are unsure. Then give the "
    "conclusion in a few sentences."
)


def _prompt(tool_input: Mapping[str, Any]) -> str:
    problem = tool_input.get("problem")
    if not isinstance(problem, str) or not problem.strip():
        raise ToolFailure("invalid_input", "problem must be a non-empty text")
    context = tool_input.get("context")
    focus = tool_input.get("focus")
    if focus is not None and focus not in FOCUS:
        raise ToolFailure("invalid_input", f"focus must be one of {', '.join(FOCUS)}")
    parts = [INSTRUCTIONS]
    if focus:
        parts.append(f"Focus on {str(focus).replace('_', ' ')}.")
    parts.append(f"Problem:\n{problem.strip()}")
    if isinstance(context, str) and context.strip():
        parts.append(f"Context:\n{context.strip()}")
    text = "\n\n".join(parts)
    if len(text) > MAX_PROBLEM_CHARS:
        raise ToolFailure("invalid_input", f"problem and context exceed {MAX_PROBLEM_CHARS} chars")
    return text


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    prompt = _prompt(tool_input)
    seen = [""]

    def on_thinking(delta: str) -> None:
        # the draft's line for this call shows the newest words of the thinking, live
        seen[0] = (seen[0] + delta)[-200:]
        tail = " ".join(seen[0].split())[-55:]
        ctx.progress(say(ctx.language, "status.extended_thinking_tail", tail=tail))

    reply = await ctx.claude.create(
        {
            "model": ctx.model,
            "max_tokens": THINKING_BUDGET + ANSWER_TOKENS,
            "thinking": {"type": "enabled", "budget_tokens": THINKING_BUDGET},
            "messages": [{"role": "user", "content": prompt}],
        },
        on_thinking=on_thinking,
    )
    reasoning = "\n".join(
        str(b.get("thinking", "")) for b in reply.content if b.get("type") == "thinking"
    )
    output = json.dumps(
        {"reasoning": reasoning.strip(), "conclusion": reply.text.strip()}, ensure_ascii=False
    )
    return ToolResult(
        output=output,
        quantities=ToolQuantities(model_calls=(ModelUsage(model=reply.model, usage=reply.usage),)),
    )


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Think long and carefully about a hard sub-problem (a proof, a tricky bug, a design "
        "trade-off, a multi-step calculation) before answering. Give the whole problem and "
        "its context; you get back the reasoning and a conclusion. Paid (model tokens); use "
        "it only when a quick answer would likely be wrong."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    paid=True,
    on_interrupt="fail",
    timeout=180.0,
    status=lambda language, _input: say(language, "status.extended_thinking"),
    offered_to=offers_thinking_tool,
)

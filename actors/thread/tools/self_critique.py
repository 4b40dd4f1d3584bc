"""``self_critique``: a stronger reviewer checks a draft answer before the user gets it.

The reviewer is a subagent on the strongest model (Opus), thinking adaptively, with the same
tools the answer could use: the web (server-side search and fetch) and the thread's files
(``list_files``, ``preview_file``, ``analyze_image``, ``analyze_pdf``, run here with the
caller's context). It runs at most :data:`MAX_ITERATIONS` model calls (the last one without
tools, so it must give its verdict) and stops early when what it has spent reaches
:data:`COST_CAP` (priced with the price table as it goes). It only runs for users whose
balance is at least :data:`MIN_BALANCE`; below that it answers ``SKIPPED`` for free.

Everything it consumed (each reviewer call's usage, its web searches included, and its file
tools' calls) is the call's quantities, charged to the user once when it ends, also when it
fails midway (:class:`ToolFailure` carries them). A review interrupted by a crash is failed,
not re-run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from actors.billing.policy import format_usd
from actors.billing.pricing import PricingError, price
from actors.texts import say
from actors.thread.models import STRONGEST_MODEL
from actors.thread.tools import analyze_image, analyze_pdf, list_files, preview_file
from actors.thread.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from actors.thread.tools.web_fetch import TOOL as WEB_FETCH
from actors.thread.tools.web_search import TOOL as WEB_SEARCH
from events.usage import ModelUsage, ToolQuantities

NAME: Final = "self_critique"
MAX_ITERATIONS: Final = 8
COST_CAP: Final = Decimal("0.50")
MIN_BALANCE: Final = Decimal("1.00")
MAX_TOKENS: Final = 16_000
VERDICTS: Final = ("PASS", "NEEDS_IMPROVEMENT", "FAIL")
FOCUS: Final = ("accuracy", "completeness", "logic", "user_intent", "code", "formatting")
SUB_TOOLS: Final[dict[str, Tool]] = {
    t.name: t for t in (list_files.TOOL, preview_file.TOOL, analyze_image.TOOL, analyze_pdf.TOOL)
}

INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {
        "user_request": {"type": "string", "description": "What the user asked, in full."},
        "draft_answer": {"type": "string", "description": "The answer you intend to give."},
        "focus_areas": {"type": "array", "items": {"type": "string", "enum": list(FOCUS)}},
    },
    "required": ["user_request", "draft_answer"],
}

REVIEWER: Final = (
    "You review an assistant's draft answer before the user sees it. Be sceptical: check "
    "facts (search the web when a claim can be checked), calculations, code and whether the "
    "answer does what the user asked. You may look at the user's files. When you are done, "
    'reply with only a JSON object: {"verdict": "PASS" | "NEEDS_IMPROVEMENT" | '
    '"FAIL", "summary": "...", "issues": [{"severity": "critical" | "major" | '
    '"minor", "description": "..."}], "recommendations": ["..."]}.'
)


def _text(tool_input: Mapping[str, Any], name: str) -> str:
    value = tool_input.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ToolFailure("invalid_input", f"{name} must be a non-empty text")
    return value.strip()[:60_000]


def _task(tool_input: Mapping[str, Any]) -> str:
    parts = [
        f"The user asked:\n{_text(tool_input, 'user_request')}",
        f"The draft answer:\n{_text(tool_input, 'draft_answer')}",
    ]
    focus = tool_input.get("focus_areas")
    if isinstance(focus, list) and focus:
        parts.append("Focus on: " + ", ".join(str(f) for f in focus if f in FOCUS))
    return "\n\n".join(parts)


class _Review:
    """The reviewer's conversation, what it consumed, and what that costs so far."""

    def __init__(self, ctx: ToolContext, task: str) -> None:
        self.ctx = ctx
        self.messages: list[dict[str, Any]] = [{"role": "user", "content": task}]
        self.calls: list[ModelUsage] = []
        self.sub: list[ToolQuantities] = []
        self.tools_used: list[str] = []

    def quantities(self) -> ToolQuantities:
        calls = list(self.calls)
        for q in self.sub:
            calls.extend(q.model_calls)
        return ToolQuantities(model_calls=tuple(calls))

    def cost(self) -> Decimal:
        try:
            return price(at=self.ctx.now, tool_quantities=self.quantities()).total
        except PricingError:
            return Decimal(0)

    def request(self, final: bool) -> dict[str, Any]:
        tools = [WEB_SEARCH.definition(), WEB_FETCH.definition()]
        tools += [t.definition() for t in SUB_TOOLS.values()]
        body: dict[str, Any] = {
            "model": STRONGEST_MODEL,
            "max_tokens": MAX_TOKENS,
            "system": REVIEWER,
            "thinking": {"type": "adaptive"},
            "output_config": {"effort": "high"},
            "messages": self.messages,
            "tools": tools,
            "betas": list(WEB_FETCH.betas),
        }
        if final:
            body["tool_choice"] = {"type": "none"}
        return body

    async def run_tools(self, content: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        uses = [b for b in content if b.get("type") == "tool_use"]
        return list(await asyncio.gather(*(self._one(use) for use in uses)))

    async def _one(self, use: Mapping[str, Any]) -> dict[str, Any]:
        name = str(use.get("name", ""))
        tool = SUB_TOOLS.get(name)
        raw = use.get("input")
        tool_input = raw if isinstance(raw, Mapping) else {}
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": use.get("id", "")}
        if tool is None or tool.run is None:
            return {**result, "content": f"no tool named {name!r}", "is_error": True}
        self.tools_used.append(name)
        status = tool.status_line(self.ctx.language, tool_input)
        self.ctx.progress(say(self.ctx.language, "status.reviewing", status=status))
        try:
            async with asyncio.timeout(tool.timeout):
                done = await tool.run(tool_input, self.ctx)
        except ToolFailure as exc:
            self.sub.append(exc.quantities)
            return {**result, "content": f"{exc.error_class}: {exc.message}", "is_error": True}
        except TimeoutError:
            return {**result, "content": "timeout", "is_error": True}
        self.sub.append(done.quantities)
        return {**result, "content": done.output, "is_error": done.is_error}


def _verdict(text: str) -> dict[str, Any]:
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        try:
            found = json.loads(text[start : end + 1])
        except ValueError:
            found = None
        if isinstance(found, dict) and found.get("verdict") in VERDICTS:
            return found
    return {"verdict": "UNKNOWN", "summary": text.strip()[:4000]}


async def _loop(review: _Review) -> dict[str, Any]:
    for iteration in range(1, MAX_ITERATIONS + 1):
        review.ctx.progress(
            say(review.ctx.language, "status.reviewing_step", step=iteration, limit=MAX_ITERATIONS)
        )
        reply = await review.ctx.claude.create(review.request(final=iteration == MAX_ITERATIONS))
        review.calls.append(ModelUsage(model=reply.model, usage=reply.usage))
        if review.cost() >= COST_CAP:
            return {"verdict": "COST_CAP", "summary": reply.text.strip()[:4000]}
        review.messages.append({"role": "assistant", "content": reply.content})
        if reply.stop_reason == "tool_use":
            results = await review.run_tools(reply.content)
            review.messages.append({"role": "user", "content": results})
            continue
        if reply.stop_reason == "pause_turn":
            continue  # the API resumes its server tools from the content sent back
        return _verdict(reply.text)
    return {"verdict": "UNKNOWN", "summary": "no verdict within the iteration cap"}


async def run(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    task = _task(tool_input)
    if ctx.balance is None or ctx.balance < MIN_BALANCE:
        shown = "unknown" if ctx.balance is None else f"${format_usd(ctx.balance)}"
        reason = f"self_critique needs a balance of at least ${MIN_BALANCE}; it is {shown}"
        return ToolResult(output=json.dumps({"verdict": "SKIPPED", "reason": reason}))
    review = _Review(ctx, task)
    try:
        verdict = await _loop(review)
    except ToolFailure as exc:
        raise ToolFailure(
            exc.error_class, f"the review failed: {exc.message}", quantities=review.quantities()
        ) from exc
    verdict["reviewer_calls"] = len(review.calls)
    verdict["tools_used"] = review.tools_used
    verdict["cost_usd"] = format_usd(review.cost())
    output = json.dumps(verdict, ensure_ascii=False)
    return ToolResult(output=output, quantities=review.quantities())


TOOL: Final = Tool(
    name=NAME,
    description=(
        "Have a stronger reviewer check your draft answer before you send it: facts (it can "
        "search the web), calculations, code, files and whether it answers what was asked. "
        "Returns a verdict (PASS, NEEDS_IMPROVEMENT, FAIL), issues and recommendations. "
        "Paid (up to $0.50 per review); only for long, important or risky answers. Runs only "
        "when the user's balance is at least $1."
    ),
    input_schema=INPUT_SCHEMA,
    run=run,
    paid=True,
    on_interrupt="fail",
    timeout=600.0,
    status=lambda language, _input: say(language, "status.self_critique"),
)

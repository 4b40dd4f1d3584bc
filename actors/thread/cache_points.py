"""Prompt caching of a turn's requests: where the breakpoints go, and which lifetime.

Breakpoints (the API allows 4; a breakpoint writes the prefix ending at its block, a later
request reads a written prefix found at one of its breakpoints or up to 20 blocks before one):

1. the last tool: the tool definitions are the same in every thread of a model;
2. the last system block: the system prompt changes only with the personality;
3. the last block of the last message: writes the whole request, for the next step of the
   turn (a tool loop) or the next turn to read; an assistant prefill (a max_tokens
   continuation, replaced by a longer one at the next step) is left out: the message
   before it is marked;
4. the anchor: the last block of the latest turn input (a user message that is more than
   tool results) before the message of breakpoint 3: in a tool loop the turn's input, on
   a turn's first step the previous turn's input. An earlier request wrote a breakpoint
   there, so this read holds even when a step or a turn added more blocks than the
   20-block look-back of breakpoint 3.

Markers already in the messages (a continuation carries the previous step's content) are
removed first, so a request never has more than four.

Lifetime (:func:`choose_ttl`), one for every breakpoint of the request (the API refuses a
1-hour breakpoint after a 5-minute one): the cached prefix pays off only if the next
request comes before it expires. From the thread's recent gaps between user messages, q5 and
q60 are the shares of gaps within 5 minutes and within an hour. With prices relative to
input (w5 = 5-minute write, w60 = 1-hour write, r = read), P the tokens of this request's
prefix and N the tokens the newest exchange added, the expected cost of writing now and
being read (or rewritten) next turn is ``N*w + P*(q*r + (1-q)*w)``; the 1-hour lifetime is
chosen when it is cheaper. Before the first gap (a new thread) there is no pace: 5 minutes.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

CacheTtl = Literal["5m", "1h"]

MAX_BREAKPOINTS: Final = 4
PACE_WINDOW: Final = 8
"""How many recent gaps between the user's messages describe the thread's pace."""
MIN_GAPS: Final = 1
"""With fewer gaps than this there is no pace to go by: the default 5-minute lifetime."""
FIVE_MINUTES: Final = 300.0
ONE_HOUR: Final = 3600.0
UNMARKABLE: Final = ("thinking", "redacted_thinking")
"""Blocks the API does not let carry cache_control (nor may an empty text block)."""


def cache_control(ttl: CacheTtl) -> dict[str, str]:
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": "1h"}


def _unmarked(block: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "cache_control"}


def _content(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [_unmarked(b) for b in content or ()]


def _is_input(message: Mapping[str, Any]) -> bool:
    """A user message with more than tool results: the input that starts a turn."""
    if message.get("role") != "user":
        return False
    content = message.get("content")
    if isinstance(content, str):
        return bool(content)
    return any(b.get("type") != "tool_result" for b in content or ())


def last_index(messages: Sequence[Mapping[str, Any]]) -> int:
    """The message whose last block gets breakpoint 3: the last one, unless it is an
    assistant prefill (it ends with text the next step replaces by a longer one, so its
    prefix is never read again): then the message before it."""
    last = len(messages) - 1
    if last > 0 and messages[last].get("role") == "assistant":
        content = _content(messages[last])
        if content and content[-1].get("type") == "text":
            return last - 1
    return last


def anchor_index(messages: Sequence[Mapping[str, Any]], last: int | None = None) -> int | None:
    """The message whose last block gets breakpoint 4: the latest turn input before the
    message of breakpoint 3 (see the module docstring)."""
    target = last_index(messages) if last is None else last
    earlier = [i for i, m in enumerate(messages[:target]) if _is_input(m)]
    return earlier[-1] if earlier else None


def place_cache_breakpoints(
    tools: Sequence[Mapping[str, Any]],
    system: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
    ttl: CacheTtl = "5m",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Copies of tools, system blocks and messages with the breakpoints of the module
    docstring (the inputs are not changed)."""
    mark = cache_control(ttl)
    new_tools = [_unmarked(t) for t in tools]
    new_system = [_unmarked(b) for b in system]
    new_messages = [{**m, "content": _content(m)} for m in messages]
    if new_tools:
        new_tools[-1]["cache_control"] = mark
    if new_system:
        new_system[-1]["cache_control"] = mark
    last = last_index(new_messages)
    marked = [i for i in (anchor_index(new_messages, last), last) if i is not None and i >= 0]
    for index in marked:
        content = new_messages[index]["content"]
        markable = [
            b
            for b in content
            if b.get("type") not in UNMARKABLE and (b.get("type") != "text" or b.get("text"))
        ]
        if markable:
            markable[-1]["cache_control"] = mark
    return new_tools, new_system, new_messages


def recent_gaps(times: Sequence[datetime | None], window: int = PACE_WINDOW) -> list[float]:
    """Seconds between consecutive known message times, the newest ``window`` of them."""
    known = [t for t in times if t is not None]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(known)]
    return [max(0.0, g) for g in gaps][-window:]


def choose_ttl(
    gaps: Sequence[float],
    *,
    prefix_tokens: int,
    new_tokens: int,
    write_5m: Decimal = Decimal("1.25"),
    write_1h: Decimal = Decimal("2"),
    read: Decimal = Decimal("0.1"),
) -> CacheTtl:
    """The cheaper lifetime for the thread's pace (rule in the module docstring); prices
    are relative to the model's input price."""
    if len(gaps) < MIN_GAPS:
        return "5m"
    q5 = Decimal(sum(1 for g in gaps if g <= FIVE_MINUTES)) / len(gaps)
    q60 = Decimal(sum(1 for g in gaps if g <= ONE_HOUR)) / len(gaps)
    p, n = Decimal(prefix_tokens), Decimal(new_tokens)

    def cost(write: Decimal, hit: Decimal) -> Decimal:
        return n * write + p * (hit * read + (1 - hit) * write)

    return "1h" if cost(write_1h, q60) < cost(write_5m, q5) else "5m"

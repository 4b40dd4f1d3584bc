"""Prompt-cache breakpoints of a turn's request and the lifetime chosen for the pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from thread_builders import user_message

from actors.thread.cache_points import (
    anchor_index,
    choose_ttl,
    place_cache_breakpoints,
    recent_gaps,
)
from actors.thread.context import build_request, cache_ttl_for
from actors.thread.decide import Facts, decide_messages
from actors.thread.evolve import evolve_all
from actors.thread.models import SONNET
from actors.thread.state import (
    HistoryItem,
    ThreadState,
    decode_state,
    encode_state,
    initial_state,
)

FUNDED = Facts(balance=Decimal("1.00"))
TOOLS = [{"name": f"t{i}", "input_schema": {"type": "object"}} for i in range(3)]
SYSTEM = [{"type": "text", "text": "system"}]


def text(role: str, value: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": value}]}


def tool_step(n: int) -> list[dict[str, Any]]:
    uses = [{"type": "tool_use", "id": f"u{n}{i}", "name": "t0", "input": {}} for i in range(3)]
    results = [{"type": "tool_result", "tool_use_id": u["id"], "content": "r"} for u in uses]
    return [{"role": "assistant", "content": uses}, {"role": "user", "content": results}]


def marks(
    tools: list[dict[str, Any]], system: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> list[str]:
    found = [f"tools.{i}" for i, t in enumerate(tools) if "cache_control" in t]
    found += [f"system.{i}" for i, b in enumerate(system) if "cache_control" in b]
    for i, message in enumerate(messages):
        found += [
            f"messages.{i}.{j}" for j, b in enumerate(message["content"]) if "cache_control" in b
        ]
    return found


def test_first_step_marks_tools_system_previous_input_and_last_message() -> None:
    """Breakpoints: last tool, system, the previous turn's input, the new input."""
    messages = [text("user", "a"), text("assistant", "b"), text("user", "c")]
    placed = place_cache_breakpoints(TOOLS, SYSTEM, messages)
    assert marks(*placed) == ["tools.2", "system.0", "messages.0.0", "messages.2.0"]
    assert placed[0][2]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in m["content"][0] for m in messages)  # inputs unchanged


def test_tool_loop_step_anchors_on_the_turns_input() -> None:
    """In a tool loop the anchor is the turn's input; old markers are dropped; 1h applies
    to every breakpoint."""
    turn_input = text("user", "c")
    turn_input["content"][0]["cache_control"] = {"type": "ephemeral"}  # from an earlier step
    messages = [text("user", "a"), text("assistant", "b"), turn_input, *tool_step(1)]
    messages += tool_step(2)
    tools, system, placed = place_cache_breakpoints(TOOLS, SYSTEM, messages, "1h")
    assert marks(tools, system, placed) == ["tools.2", "system.0", "messages.2.0", "messages.6.2"]
    assert placed[6]["content"][2]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


def test_anchor_of_a_lone_message_and_string_contents() -> None:
    """One message: no anchor; string contents become a marked text block."""
    assert anchor_index([text("user", "a")]) is None
    assert anchor_index([text("user", "a")], 0) is None
    _, _, placed = place_cache_breakpoints([], [], [{"role": "user", "content": "hello"}])
    assert placed == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}}],
        }
    ]


@given(
    shape=st.lists(st.sampled_from(["text", "tools", "input"]), min_size=1, max_size=12),
    tools=st.integers(min_value=0, max_value=3),
)
def test_never_more_than_four_breakpoints(shape: list[str], tools: int) -> None:
    """Whatever the conversation (texts, tool steps, markers left over), at most 4 marks,
    and the last message's last block is always one."""
    messages: list[dict[str, Any]] = [text("user", "start")]
    for n, kind in enumerate(shape):
        if kind == "tools":
            messages += tool_step(n)
        elif kind == "text":
            messages += [text("assistant", f"a{n}"), text("user", f"u{n}")]
        else:
            messages[-1]["content"].append(
                {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
            )
    placed = place_cache_breakpoints(TOOLS[:tools], SYSTEM, messages)
    assert len(marks(*placed)) <= 4
    assert "cache_control" in placed[2][-1]["content"][-1]


def test_pace_decides_the_lifetime() -> None:
    """Quick replies keep 5 minutes; a pace of 10-40 minutes pays for 1 hour; gaps beyond
    an hour, or no gap yet, keep 5 minutes."""
    size = {"prefix_tokens": 20_000, "new_tokens": 800}
    assert choose_ttl([60, 90, 120, 45], **size) == "5m"
    assert choose_ttl([600, 1200, 2400, 900], **size) == "1h"
    assert choose_ttl([600, 60, 1800, 90], **size) == "1h"  # half slow: the hour still pays
    assert choose_ttl([7200, 9000, 86_400], **size) == "5m"
    assert choose_ttl([1200], **size) == "1h"  # one gap is a pace to go by
    assert choose_ttl([], **size) == "5m"  # a new thread has none
    assert choose_ttl([600, 900], prefix_tokens=500, new_tokens=5000) == "5m"  # all new


@given(
    gaps=st.lists(st.floats(min_value=0, max_value=10_000), min_size=2, max_size=8),
    prefix=st.integers(min_value=0, max_value=200_000),
    new=st.integers(min_value=0, max_value=50_000),
)
def test_one_hour_only_when_some_gap_falls_between_5_minutes_and_an_hour(
    gaps: list[float], prefix: int, new: int
) -> None:
    """1h can only pay when a gap would outlive the 5-minute entry but not the hour one."""
    if choose_ttl(gaps, prefix_tokens=prefix, new_tokens=new) == "1h":
        assert any(300 < g <= 3600 for g in gaps)


def test_recent_gaps_skip_unknown_times() -> None:
    """Gaps between known times, newest last, at most the window."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    times = [t0, None, t0 + timedelta(seconds=30), t0 + timedelta(seconds=90)]
    assert recent_gaps(times) == [30.0, 60.0]
    assert recent_gaps([t0 + timedelta(seconds=i) for i in range(20)], window=3) == [1.0] * 3


def _state(gap: float, turns: int = 5) -> ThreadState:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    history: list[HistoryItem] = []
    for i in range(turns):
        at = t0 + timedelta(seconds=gap * i)
        history.append(HistoryItem(role="user", text="q " * 200, message_ids=(i,), sent_at=at))
        history.append(HistoryItem(role="assistant", text="a " * 2000))
    last = t0 + timedelta(seconds=gap * turns)
    history.append(HistoryItem(role="user", text="next", message_ids=(99,), sent_at=last))
    return ThreadState(key="1:0", history=tuple(history))


def test_request_builder_uses_the_threads_pace_and_marks_tools() -> None:
    """build_request: a slow thread gets 1h breakpoints, a quick one 5m; tools are offered
    with the last one marked; a later step marks its last message."""
    slow = build_request(_state(900), model=SONNET, personality=None, tools=TOOLS)
    assert slow.cache_ttl == "1h"
    assert slow.kwargs["tools"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert "cache_control" not in TOOLS[-1]
    quick = build_request(_state(60), model=SONNET, personality=None)
    assert quick.cache_ttl == "5m"
    step = quick.step_kwargs(tool_step(1))
    assert "cache_control" in step["messages"][-1]["content"][-1]
    assert (
        sum(len([b for b in m["content"] if "cache_control" in b]) for m in step["messages"]) == 2
    )
    items = _state(900).history
    assert cache_ttl_for(SONNET, items[:2], 1000) == "5m"  # one message: no pace yet


def test_accepted_messages_keep_when_they_were_sent() -> None:
    """The history remembers each user message's time (the pace comes from it)."""
    cmd = user_message("hi")
    decision = decide_messages(initial_state(cmd.key), [cmd], FUNDED)
    state = evolve_all(initial_state(cmd.key), decision.events)
    assert state.history[0].sent_at == cmd.message.sent_at
    assert decode_state(encode_state(state)) == state


def test_a_prefill_is_not_marked() -> None:
    """A max_tokens continuation's assistant prefill is not cached (the next step extends
    it); its user message and the previous input are."""
    messages = [text("user", "a"), text("assistant", "b"), text("user", "c")]
    messages.append(text("assistant", "partial answer"))
    placed = place_cache_breakpoints([], SYSTEM, messages)
    assert marks(*placed) == ["system.0", "messages.0.0", "messages.2.0"]
    search = {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}
    paused = [text("user", "a"), {"role": "assistant", "content": [search]}]
    assert marks(*place_cache_breakpoints([], SYSTEM, paused)) == [
        "system.0",
        "messages.0.0",
        "messages.1.0",
    ]


def test_thinking_and_empty_text_are_never_marked() -> None:
    """The breakpoint goes on the last block that may carry one."""
    thinking = {"type": "thinking", "thinking": "t", "signature": "s"}
    answer = {"role": "assistant", "content": [{"type": "text", "text": "x"}, thinking]}
    paused = [text("user", "a"), answer]
    _, _, placed = place_cache_breakpoints([], [], paused)
    assert "cache_control" in placed[1]["content"][0]
    assert "cache_control" not in placed[1]["content"][1]

"""The tool loop's state as a fold of its events, and the request continuation rebuilt from
it (what a resumed turn sends)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from tool_builders import started_state, step_event, use

from actors.thread import tool_events
from actors.thread.evolve import evolve_all
from actors.thread.tool_calls import MAX_OUTPUT_CHARS, continuation_of, unfinished_calls
from events.tools import ToolCallRequested
from events.usage import ToolQuantities

AT = datetime(2026, 6, 1, tzinfo=UTC)
THINKING = {"type": "thinking", "thinking": "plan", "signature": "sig-1"}


def _requested(running, block, attempt=1):  # type: ignore[no-untyped-def]
    return tool_events.requested(
        running,
        step=1,
        tool_use_id=block["id"],
        tool_name=block["name"],
        tool_input=block["input"],
        tool=None,
        attempt=attempt,
    )


def _outcome(running, block, ok):  # type: ignore[no-untyped-def]
    if ok:
        return tool_events.completed(
            running,
            tool_use_id=block["id"],
            tool_name=block["name"],
            output=f"result of {block['id']}",
            duration_ms=1,
            quantities=ToolQuantities(),
            at=AT,
        )
    return tool_events.failed(
        running,
        tool_use_id=block["id"],
        tool_name=block["name"],
        error_class="timeout",
        message="too slow",
        at=AT,
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=5),
    outcomes=st.lists(st.booleans() | st.none(), min_size=5, max_size=5),
    order=st.permutations(range(5)),
    repeat=st.booleans(),
)
def test_continuation_holds_each_finished_call_once_in_tool_use_order(
    n: int, outcomes: list[bool | None], order: list[int], repeat: bool
) -> None:
    """Whatever order outcomes arrive in (and redelivered): the step's content goes back
    unchanged, then one tool_result per finished call in tool_use order, failures as
    is_error; unfinished calls are listed for the crash rules and get no result."""
    state = started_state()
    assert state.running is not None
    blocks = [use(f"toolu_{i}", "estimate_cost", {"i": i}) for i in range(n)]
    content = [THINKING, {"type": "text", "text": "calling"}, *blocks]
    events = [step_event(state.running, content)]
    events += [_requested(state.running, b) for b in blocks]
    finishing = [i for i in order if i < n and outcomes[i] is not None]
    events += [_outcome(state.running, blocks[i], bool(outcomes[i])) for i in finishing]
    if repeat:
        events += events[1:]  # a redelivered batch changes nothing
    running = evolve_all(state, events).running
    assert running is not None

    messages = continuation_of(running)
    assert messages[0] == {"role": "assistant", "content": content}
    finished = [i for i in range(n) if outcomes[i] is not None]
    results = messages[1]["content"] if finished else []
    assert len(messages) == (2 if finished else 1)
    assert [r["tool_use_id"] for r in results] == [f"toolu_{i}" for i in finished]
    for result, i in zip(results, finished, strict=True):
        assert result.get("is_error", False) is (outcomes[i] is False)
        expected = f"result of toolu_{i}" if outcomes[i] else "timeout: too slow"
        assert result["content"][0]["text"] == expected
    pending = {c.tool_use_id for c in unfinished_calls(running)}
    assert pending == {f"toolu_{i}" for i in range(n) if outcomes[i] is None}


def test_a_rerun_request_raises_the_attempt_and_a_finished_call_stays_finished() -> None:
    """attempt 2 of an interrupted call is recorded; a late request for a finished call (a
    redelivery) does not reopen it."""
    state = started_state()
    assert state.running is not None
    block = use("toolu_a", "estimate_cost")
    running = state.running
    base = [step_event(running, [block]), _requested(running, block)]
    again = evolve_all(state, [*base, _requested(running, block, attempt=2)]).running
    assert again is not None
    assert again.tool_calls[0].attempt == 2
    done = evolve_all(state, [*base, _outcome(running, block, True), _requested(running, block, 2)])
    assert done.running is not None
    assert done.running.tool_calls[0].status == "completed"
    assert done.running.tool_calls[0].attempt == 1


def test_long_outputs_are_cut_with_a_note() -> None:
    """A tool's output beyond the limit is cut, saying how much was left out."""
    state = started_state()
    assert state.running is not None
    event = tool_events.completed(
        state.running,
        tool_use_id="toolu_x",
        tool_name="estimate_cost",
        output="x" * (MAX_OUTPUT_CHARS + 10),
        duration_ms=1,
        quantities=ToolQuantities(),
        at=AT,
    )
    assert event.output.endswith("[... 10 more characters cut]")
    assert event.output.startswith("x" * MAX_OUTPUT_CHARS)


def test_ids_are_derived_so_a_retried_report_is_the_same_record() -> None:
    """The same call reported twice gets the same event id and the same charge id."""
    state = started_state()
    assert state.running is not None
    block = use("toolu_p", "probe")
    quantities = ToolQuantities(web_searches=3)
    first, second = (
        tool_events.completed(
            state.running,
            tool_use_id=block["id"],
            tool_name="probe",
            output="ok",
            duration_ms=5,
            quantities=quantities,
            at=AT,
        )
        for _ in range(2)
    )
    assert first.id == second.id
    charge = tool_events.tool_charge(first)
    assert charge is not None
    assert charge.operation_id == f"usage:{first.id}" == first.billing_operation_id
    assert charge.occurred_at == first.occurred_at
    assert charge.source == "tool_call"
    assert charge.tool_name == "probe"
    assert first.cost_usd is not None
    assert first.price_version == "2026-05"


def test_server_tools_are_recorded_from_the_step_content_without_a_charge() -> None:
    """A web search the API ran is a server-side request plus its outcome (results as
    lines, an error code as a failure); its cost is the step's, so no charge of its own."""
    state = started_state()
    assert state.running is not None
    content = [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"q": 1}},
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": [{"type": "web_search_result", "url": "https://a.example", "title": "A"}],
        },
        {"type": "server_tool_use", "id": "srvtoolu_2", "name": "web_fetch", "input": {}},
        {
            "type": "web_fetch_tool_result",
            "tool_use_id": "srvtoolu_2",
            "content": {"type": "web_fetch_tool_error", "error_code": "url_not_accessible"},
        },
        {"type": "text", "text": "found it"},
    ]
    events = tool_events.server_tool_events(state.running, step=1, content=content, at=AT)
    kinds = [(type(e).__name__, e.tool_name) for e in events]
    assert kinds == [
        ("ToolCallRequested", "web_search"),
        ("ToolCallCompleted", "web_search"),
        ("ToolCallRequested", "web_fetch"),
        ("ToolCallFailed", "web_fetch"),
    ]
    assert all(e.server_side for e in events if isinstance(e, ToolCallRequested))
    assert events[1].output == "A https://a.example"
    assert events[1].quantities == ToolQuantities(web_searches=1)
    assert events[3].message == "error: url_not_accessible"
    assert all(getattr(e, "billing_operation_id", None) is None for e in events)
    after = evolve_all(state, events).running
    assert after is not None
    assert after.tool_calls == ()  # server calls are not the runtime's to run or resume

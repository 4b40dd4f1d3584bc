"""The tool runtime over an in-memory commit: concurrency, timeouts, failures, the balance
policy for paid tools and the crash rules (the broker-backed paths are in tests/e2e)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from tool_builders import MemoryCommit, started_state, step_event, use

from actors.thread import tool_events
from actors.thread.tools import Tool, ToolContext, ToolFailure, ToolRegistry, ToolResult
from actors.thread.tools.base import DeliveredFile, ModelReply
from events.files import FileDelivered
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested
from events.usage import ToolQuantities
from infra.files.thread_files import ScopedFiles
from infra.threads.tool_execution import ToolTurn
from infra.threads.tool_runtime import ToolRuntime

SCHEMA = {"type": "object"}


class NoModel:
    async def create(self, request: Mapping[str, Any], **_: Any) -> ModelReply:
        raise ToolFailure("provider_error", "no model in these tests")


class NoFiles:
    def for_thread(self, thread_key: str, user_id: int) -> ScopedFiles:
        return ScopedFiles(None, None, thread_key, user_id)  # no store: every read fails


class Balances:
    def __init__(self, balance: Decimal | None) -> None:
        self.value = balance

    async def balance(self, user_id: int) -> Decimal | None:
        return self.value


def _tool(name: str, run: Any, **kwargs: Any) -> Tool:
    return Tool(name=name, description=name, input_schema=SCHEMA, run=run, **kwargs)


async def _ok(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    return ToolResult(output="ok", quantities=ToolQuantities(sandbox_seconds=Decimal(10)))


async def _slow(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    await asyncio.sleep(30)
    return ToolResult(output="late")


async def _crash(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
    raise RuntimeError("boom")


def _runtime(*tools: Tool, balance: Decimal | None = Decimal(1)) -> ToolRuntime:
    return ToolRuntime(
        ToolRegistry(tools), claude=NoModel(), files=NoFiles(), balances=Balances(balance)
    )


async def _step(runtime: ToolRuntime, *blocks: dict[str, Any]) -> MemoryCommit:
    commit = MemoryCommit(started_state())
    requests = runtime.requests(commit.running, 1, blocks)
    await commit([step_event(commit.running, blocks), *requests], [])
    return commit


def _outcomes(commit: MemoryCommit) -> dict[str, Any]:
    return {
        e.tool_use_id: e for e in commit.events if isinstance(e, ToolCallCompleted | ToolCallFailed)
    }


async def test_calls_of_one_step_run_concurrently() -> None:
    """Two calls that each wait for the other to have started both finish: they ran at once."""
    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    async def meet(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        me, other = tool_input["me"], tool_input["other"]
        started[me].set()
        await asyncio.wait_for(started[other].wait(), 5)
        return ToolResult(output=me)

    runtime = _runtime(_tool("meet", meet))
    commit = await _step(
        runtime,
        use("toolu_a", "meet", {"me": "a", "other": "b"}),
        use("toolu_b", "meet", {"me": "b", "other": "a"}),
    )
    running = await runtime.run_pending(commit.running, commit.state, ToolTurn(), commit)
    outcomes = _outcomes(commit)
    assert {k: type(v) for k, v in outcomes.items()} == {
        "toolu_a": ToolCallCompleted,
        "toolu_b": ToolCallCompleted,
    }
    assert all(c.finished for c in running.tool_calls)


async def test_timeouts_unknown_tools_and_crashes_fail_with_their_class() -> None:
    """A slow call times out, an unknown name is not_found, an exception is internal, a
    ToolFailure keeps its class and its consumed quantities are charged."""

    async def refuse(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        raise ToolFailure(
            "provider_error", "upstream down", quantities=ToolQuantities(web_searches=2)
        )

    runtime = _runtime(
        _tool("slow", _slow, timeout=0.05), _tool("crash", _crash), _tool("refuse", refuse)
    )
    commit = await _step(
        runtime,
        use("toolu_s", "slow"),
        use("toolu_u", "nope"),
        use("toolu_c", "crash"),
        use("toolu_r", "refuse"),
    )
    await runtime.run_pending(commit.running, commit.state, ToolTurn(), commit)
    outcomes = _outcomes(commit)
    classes = {k: v.error_class for k, v in outcomes.items()}
    assert classes == {
        "toolu_s": "timeout",
        "toolu_u": "not_found",
        "toolu_c": "internal",
        "toolu_r": "provider_error",
    }
    assert "boom" in outcomes["toolu_c"].message
    assert [c.tool_name for c in commit.charges] == ["refuse"]
    assert commit.charges[0].tool_quantities == ToolQuantities(web_searches=2)


@pytest.mark.parametrize(
    ("view", "start", "spent", "runs"),
    [
        (Decimal("0.50"), None, Decimal(0), True),
        (Decimal("-0.01"), None, Decimal(0), False),
        (None, None, Decimal(0), False),  # no balance yet
        # the view has not seen this turn's charges yet: start - spent is what counts
        (Decimal("0.50"), Decimal("0.50"), Decimal("0.60"), False),
        (Decimal("0.50"), Decimal("0.50"), Decimal("0.40"), True),
    ],
)
async def test_paid_tools_ask_the_balance_policy(
    view: Decimal | None, start: Decimal | None, spent: Decimal, runs: bool
) -> None:
    """A paid call runs only while min(view, balance at start - this turn's charges) >= 0;
    a refused one is failed with insufficient_balance and the /pay hint, not run."""
    ran: list[str] = []

    async def paid(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        ran.append(ctx.tool_use_id)
        return ToolResult(output="paid work")

    runtime = _runtime(_tool("paid", paid, paid=True), balance=view)
    commit = await _step(runtime, use("toolu_p", "paid"))
    turn = ToolTurn(balance_at_start=start, spent=spent)
    await runtime.run_pending(commit.running, commit.state, turn, commit)
    outcome = _outcomes(commit)["toolu_p"]
    assert (ran == ["toolu_p"]) is runs
    if not runs:
        assert isinstance(outcome, ToolCallFailed)
        assert outcome.error_class == "insufficient_balance"
        assert "/pay" in outcome.message


async def test_interrupted_calls_follow_their_tools_crash_rule() -> None:
    """After a crash: a 'fail' tool's call is failed as interrupted (not run again), a
    'rerun_once' tool's call is requested again (attempt 2) and then runs, and a call
    already re-run once is failed."""
    ran: list[str] = []

    async def counted(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        ran.append(ctx.tool_use_id)
        return ToolResult(output="again")

    runtime = _runtime(
        _tool("effect", counted, on_interrupt="fail"),
        _tool("safe", counted, on_interrupt="rerun_once"),
    )
    commit = await _step(
        runtime, use("toolu_e", "effect"), use("toolu_s", "safe"), use("toolu_t", "safe")
    )
    retry = tool_events.requested(
        commit.running,
        step=1,
        tool_use_id="toolu_t",
        tool_name="safe",
        tool_input={},
        tool=None,
        attempt=2,
    )
    await commit([retry], [])

    running = await runtime.settle_interrupted(commit.running, commit)
    running = await runtime.run_pending(running, commit.state, ToolTurn(), commit)
    outcomes = _outcomes(commit)
    assert outcomes["toolu_e"].error_class == "interrupted"
    assert outcomes["toolu_t"].error_class == "interrupted"
    assert isinstance(outcomes["toolu_s"], ToolCallCompleted)
    assert ran == ["toolu_s"]
    reruns = [e for e in commit.events if isinstance(e, ToolCallRequested) and e.attempt == 2]
    assert sorted(e.tool_use_id for e in reruns) == ["toolu_s", "toolu_t"]
    assert all(c.finished for c in running.tool_calls)


async def test_cancel_pending_reports_running_calls_as_cancelled() -> None:
    """/stop while calls run: each unfinished one is failed as cancelled, finished ones kept."""
    runtime = _runtime(_tool("ok", _ok), _tool("slow", _slow))
    commit = await _step(runtime, use("toolu_o", "ok"), use("toolu_s", "slow"))
    task = asyncio.create_task(
        runtime.run_pending(commit.running, commit.state, ToolTurn(), commit)
    )
    while "toolu_o" not in _outcomes(commit):
        commit.committed.clear()
        await asyncio.wait_for(commit.committed.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await runtime.cancel_pending(commit.running, commit, "stop_command")
    outcomes = _outcomes(commit)
    assert isinstance(outcomes["toolu_o"], ToolCallCompleted)
    assert outcomes["toolu_s"].error_class == "cancelled"


async def test_serial_tools_run_in_order_beside_the_others() -> None:
    """Calls of a serial tool (deliver_file) run one after another in the order asked,
    while another tool's call runs beside them; each delivery is one thread.file_delivered
    in that order, and a call that ends with an error is no delivery."""
    log: list[str] = []
    other_started = asyncio.Event()

    async def send(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        name = str(tool_input["name"])
        log.append(f"start {name}")
        await asyncio.wait_for(other_started.wait(), 5)  # the other tool runs meanwhile
        await asyncio.sleep(0.05 if name == "first" else 0)
        log.append(f"done {name}")
        return ToolResult(
            output=name,
            delivered=(DeliveredFile(file_id=f"id-{name}", message_id=len(log), sent_as="photo"),),
        )

    async def other(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        other_started.set()
        return ToolResult(output="other")

    runtime = _runtime(_tool("send", send, serial=True), _tool("other", other))
    commit = await _step(
        runtime,
        use("toolu_1", "send", {"name": "first"}),
        use("toolu_2", "other"),
        use("toolu_3", "send", {"name": "second"}),
    )
    await runtime.run_pending(commit.running, commit.state, ToolTurn(), commit)
    assert log == ["start first", "done first", "start second", "done second"]
    delivered = [e for e in commit.events if isinstance(e, FileDelivered)]
    assert [(d.file_id, d.sent_as) for d in delivered] == [
        ("id-first", "photo"),
        ("id-second", "photo"),
    ]
    assert all(isinstance(o, ToolCallCompleted) for o in _outcomes(commit).values())


async def test_a_failed_provider_call_is_not_charged() -> None:
    """A provider failure (rate limited, timed out, 5xx) carries no quantities: the call is
    failed with its class and message and no charge is made for it."""

    async def limited(tool_input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        raise ToolFailure("rate_limited", "Gemini's quota is exhausted (429); retry in 7s")

    runtime = _runtime(_tool("limited", limited, paid=True))
    commit = await _step(runtime, use("toolu_l", "limited"))
    await runtime.run_pending(commit.running, commit.state, ToolTurn(), commit)
    failed = _outcomes(commit)["toolu_l"]
    assert isinstance(failed, ToolCallFailed)
    assert (failed.error_class, failed.billing_operation_id) == ("rate_limited", None)
    assert "retry in 7s" in failed.message
    assert commit.charges == []

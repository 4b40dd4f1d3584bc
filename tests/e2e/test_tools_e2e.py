"""The tool loop end to end: Telegram updates through the gateway process, the thread worker
process (built-in tools plus the test-only probes of ``probe_tools``), the billing worker
process pricing every charge into the ledger, the Claude emulator scripting ``tool_use``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from thread_e2e import TOOL_ITERATION_CAP, Processes, eventually, read_topic

from actors.billing.pricing import price
from devkit.emulators.claude import (
    ClaudeEmulator,
    Reply,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
    WebSearchResult,
    WebSearchToolResultBlock,
    text_reply,
)
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.probe_tools import effects
from events.billing import StarterCreditRequested, UsageChargeRequested, UsageDebited
from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, THREAD_EVENTS, TOPICS
from events.envelope import new_envelope
from events.keys import thread_key, user_key
from events.thread import AssistantMessageCompleted, TurnCancelled, TurnCompleted
from events.tools import ToolCallCompleted, ToolCallFailed, ToolCallRequested
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics
from infra.postgres import quote_schema
from infra.projector.runner import run_projector
from infra.reports.report import report

pytestmark = pytest.mark.slow


async def _fund(publisher: EventPublisher, user_id: int) -> None:
    await publisher.publish(
        BILLING_COMMANDS,
        StarterCreditRequested(
            **new_envelope(key=user_key(user_id), producer="test"),
            operation_id=f"starter:{user_id}",
            user_id=user_id,
        ),
    )


async def _ready(
    procs: Processes, publisher: EventPublisher, telegram: TelegramEmulator, chat_id: int
) -> None:
    telegram.add_private_chat(chat_id)
    await _fund(publisher, chat_id)
    telegram.send_text(chat_id, "ready?")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 240  # three processes start on a shared machine
    while not telegram.bot_messages(chat_id):
        if procs.worker.proc is not None and procs.worker.proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{procs.worker.log_tail()}")
        if loop.time() > deadline:
            raise TimeoutError(f"not ready:\n{procs.worker.log_tail()}")
        await asyncio.sleep(0.2)


async def _chat(
    procs: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude: ClaudeEmulator,
    chat_id: int,
) -> None:
    """A funded user whose first message was answered (every process is up)."""
    await _ready(procs, publisher, telegram, chat_id)
    claude.reset()


class Log:
    def __init__(self, stack: Endpoints, profile: BrokerProfile, prefix: str) -> None:
        self.stack, self.profile, self.prefix = stack, profile, prefix

    async def events(self, key: str) -> list[Any]:
        found = await read_topic(
            self.stack.kafka_bootstrap, self.profile, THREAD_EVENTS, self.prefix
        )
        return [e for e in found if e.key == key]

    async def until(self, key: str, kind: type, count: int = 1, timeout: float = 60) -> list[Any]:
        async def probe() -> list[Any] | None:
            found = await self.events(key)
            return found if sum(isinstance(e, kind) for e in found) >= count else None

        result: list[Any] = await eventually(probe, timeout, interval=0.3)
        return result

    async def debits(self, key: str, count: int, timeout: float = 60) -> list[UsageDebited]:
        async def probe() -> list[UsageDebited] | None:
            found = await read_topic(
                self.stack.kafka_bootstrap, self.profile, BILLING_LEDGER, self.prefix
            )
            mine = [e for e in found if isinstance(e, UsageDebited) and e.thread_key == key]
            return mine if len(mine) >= count else None

        result: list[UsageDebited] = await eventually(probe, timeout, interval=0.3)
        return result

    async def charges(self, key: str) -> list[Any]:
        found = await read_topic(
            self.stack.kafka_bootstrap, self.profile, BILLING_COMMANDS, self.prefix
        )
        return [
            c for c in found if isinstance(c, UsageChargeRequested) and c.thread_key == key
        ]  # usage charges only: reservations and releases are billing commands too


@pytest.fixture
def telegram(telegram_emulator_server: TelegramEmulator) -> TelegramEmulator:
    """The Telegram emulator without the per-test reset: the gateway process keeps polling
    it, and a reset would restart the update ids below its offset."""
    return telegram_emulator_server


@pytest.fixture
def log(stack: Endpoints, broker_profile: BrokerProfile, e2e_prefix: str) -> Log:
    return Log(stack, broker_profile, e2e_prefix)


def _results(request_body: dict[str, Any]) -> list[dict[str, Any]]:
    last = request_body["messages"][-1]
    return [b for b in last["content"] if b.get("type") == "tool_result"]


def _ids(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


async def test_parallel_calls_run_together_and_charges_add_up(
    tool_processes: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    log: Log,
) -> None:
    """Three calls of one step run concurrently, their results go back in one user message,
    and every charge (two model steps, two paid calls) is priced into the ledger so that the
    entries add up to the balance, each tool entry matching its event's cost and version."""
    cid = 850101
    await _chat(tool_processes, publisher, telegram, claude_emulator, cid)
    key = thread_key(cid)
    claude_emulator.script(
        Reply(
            content=[
                ThinkingBlock(thinking="Run both probes at once.", signature="sig-parallel-1"),
                TextBlock(text="Let me check. "),
                ToolUseBlock(name="probe_paid", input={"label": "a", "seconds": 1, "units": 100}),
                ToolUseBlock(name="probe_paid", input={"label": "b", "seconds": 1, "units": 300}),
                ToolUseBlock(name="estimate_cost", input={"output_tokens": 1000}),
            ],
            usage=Usage(input_tokens=500, output_tokens=80),
        ),
        text_reply("All done.", usage=Usage(input_tokens=900, output_tokens=20)),
    )
    telegram.send_text(cid, "run the probes")
    events = await log.until(key, TurnCompleted, 2)
    lines = effects(tool_processes.probe_log)
    # both started before either finished: they ran at the same time
    assert lines.index("start probe_paid a") < lines.index("done probe_paid b")
    assert lines.index("start probe_paid b") < lines.index("done probe_paid a")

    first, second = claude_emulator.message_requests()[-2:]
    # the step's content goes back unchanged: thinking and its signature first
    step = next(e for e in events if isinstance(e, AssistantMessageCompleted) and e.content)
    sent_back = second.body["messages"][-2]
    assert sent_back["role"] == "assistant"
    assert sent_back["content"] == list(step.content)
    assert sent_back["content"][0] == {
        "type": "thinking",
        "thinking": "Run both probes at once.",
        "signature": "sig-parallel-1",
    }
    assert "thinking" in first.body
    offered = [t["name"] for t in first.body["tools"]]
    assert {"estimate_cost", "probe_paid", "probe_rerun"} <= set(offered)
    uses = [b for b in second.body["messages"][-2]["content"] if b["type"] == "tool_use"]
    results = _results(second.body)
    assert [r["tool_use_id"] for r in results] == [u["id"] for u in uses]
    assert not any(r.get("is_error") for r in results)
    assert "probe_paid a done" in str(results[0]["content"])

    requested = _ids(events, ToolCallRequested)
    completed = {e.tool_use_id: e for e in _ids(events, ToolCallCompleted)}
    assert len(requested) == 3
    assert set(completed) == {r.tool_use_id for r in requested}
    assert all(r.paid == (r.tool_name == "probe_paid") for r in requested)
    answer = telegram.bot_messages(cid)[-1].text or ""
    assert "Let me check." in answer
    assert "All done." in answer

    debits = await log.debits(key, 1 + 2 + 2)  # the ready turn; here 2 steps, 2 paid calls
    assert len(debits) == 5
    paid_events = [e for e in completed.values() if e.tool_name == "probe_paid"]
    for event in paid_events:
        entry = next(d for d in debits if d.source_event_id == event.id)
        expected = price(at=event.occurred_at, tool_quantities=event.quantities)
        assert entry.tool_name == "probe_paid"
        assert -entry.amount == event.cost_usd == expected.total
        assert entry.price_version == event.price_version == expected.version
    ordered = sorted(debits, key=lambda d: d.balance_after, reverse=True)
    assert ordered[-1].balance_after == Decimal("1.00") + sum(d.amount for d in debits)
    assert all(d.amount < 0 for d in debits)


async def test_iteration_cap_ends_the_loop_with_tools_off(
    tool_processes: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    log: Log,
) -> None:
    """A model that keeps calling tools gets at most the cap's model calls; the last is sent
    with tool_choice none and the answer says the loop was stopped."""
    cid = 850201
    await _chat(tool_processes, publisher, telegram, claude_emulator, cid)
    key = thread_key(cid)
    claude_emulator.script(
        *[
            Reply(content=[TextBlock(text=f"step {i}. "), ToolUseBlock(name="estimate_cost")])
            for i in range(TOOL_ITERATION_CAP + 2)
        ]
    )
    telegram.send_text(cid, "loop forever")
    events = await log.until(key, TurnCompleted, 2)
    requests = claude_emulator.message_requests()
    assert len(requests) == TOOL_ITERATION_CAP
    assert requests[-1].body.get("tool_choice") == {"type": "none"}
    assert "tool_choice" not in requests[0].body
    assert len(_ids(events, ToolCallCompleted)) == TOOL_ITERATION_CAP - 1
    done = _ids(events, TurnCompleted)[-1]
    assert done.steps == TOOL_ITERATION_CAP
    text = telegram.bot_messages(cid)[-1].text or ""
    assert f"stopped after {TOOL_ITERATION_CAP} tool steps" in text


async def test_stop_during_a_tool_cancels_it(
    tool_processes: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    log: Log,
) -> None:
    """/stop while a paid tool runs interrupts it: the call is failed as cancelled, its effect
    never finishes, nothing is charged for it, and the turn is cancelled."""
    cid = 850301
    await _chat(tool_processes, publisher, telegram, claude_emulator, cid)
    key = thread_key(cid)
    claude_emulator.script(
        Reply(content=[ToolUseBlock(name="probe_paid", input={"label": "s", "seconds": 120})])
    )
    telegram.send_text(cid, "start something long")
    await eventually(
        lambda: "start probe_paid s" in effects(tool_processes.probe_log), 60, interval=0.1
    )
    telegram.send_command(cid, "stop")
    events = await log.until(key, TurnCancelled)
    failed = _ids(events, ToolCallFailed)
    assert [(f.tool_name, f.error_class) for f in failed] == [("probe_paid", "cancelled")]
    assert _ids(events, TurnCancelled)[0].reason == "stop_command"
    assert "done probe_paid s" not in effects(tool_processes.probe_log)
    charges = await log.charges(key)
    assert not [c for c in charges if c.tool_name is not None]
    assert len(claude_emulator.message_requests()) == 1


async def test_paid_tool_refused_on_a_negative_balance(
    tool_processes: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    log: Log,
) -> None:
    """A step whose cost takes the balance below zero: the paid tool it asks for is refused
    (insufficient_balance, never run), the model is told so with the /pay hint, and the
    turn still answers."""
    cid = 850401
    await _chat(tool_processes, publisher, telegram, claude_emulator, cid)
    key = thread_key(cid)
    claude_emulator.script(
        Reply(
            content=[ToolUseBlock(name="probe_paid", input={"label": "n", "units": 10})],
            usage=Usage(input_tokens=1000, output_tokens=100_000),  # $1.50 on Sonnet
        ),
        text_reply("I cannot run it without funds."),
    )
    telegram.send_text(cid, "run the paid probe")
    events = await log.until(key, TurnCompleted, 2)
    failed = _ids(events, ToolCallFailed)
    assert [(f.tool_name, f.error_class) for f in failed] == [
        ("probe_paid", "insufficient_balance")
    ]
    assert "start probe_paid n" not in effects(tool_processes.probe_log)
    result = _results(claude_emulator.message_requests()[-1].body)[0]
    assert result["is_error"] is True
    assert "/pay" in str(result["content"])
    debits = await log.debits(key, 1 + 2)  # the ready turn's step and the two steps here
    assert not [d for d in debits if d.tool_name is not None]
    assert min(d.balance_after for d in debits) < 0


async def test_kill_9_during_tools_resumes_without_repeating_a_paid_effect(
    tool_processes: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    log: Log,
) -> None:
    """SIGKILL while a paid call (rule: fail) and a free call (rule: re-run once) run. The
    restarted worker resumes the turn from its events: the paid call is failed as
    interrupted and never started again, nothing is charged for it; the free call runs once
    more and completes; the model gets both results and the turn completes once."""
    cid = 850501
    procs = tool_processes
    await _chat(procs, publisher, telegram, claude_emulator, cid)
    key = thread_key(cid)
    claude_emulator.script(
        Reply(
            content=[
                ToolUseBlock(name="probe_paid", input={"label": "k", "seconds": 120, "units": 70}),
                ToolUseBlock(name="probe_rerun", input={"label": "k", "first_seconds": 120}),
            ]
        ),
        text_reply("Recovered."),
    )
    telegram.send_text(cid, "survive a crash in a tool")

    def both_started() -> bool:
        lines = effects(procs.probe_log)
        return "start probe_paid k" in lines and "start probe_rerun k" in lines

    await eventually(both_started, 60, interval=0.1)
    procs.worker.kill9()
    procs.worker.start()
    events = await log.until(key, TurnCompleted, 2, timeout=120)
    lines = effects(procs.probe_log)
    assert lines.count("start probe_paid k") == 1
    assert "done probe_paid k" not in lines
    assert lines.count("start probe_rerun k") == 2
    assert lines.count("done probe_rerun k") == 1

    failed = _ids(events, ToolCallFailed)
    assert [(f.tool_name, f.error_class) for f in failed] == [("probe_paid", "interrupted")]
    reruns = [r for r in _ids(events, ToolCallRequested) if r.attempt == 2]
    assert [r.tool_name for r in reruns] == ["probe_rerun"]
    assert [c.tool_name for c in _ids(events, ToolCallCompleted)] == ["probe_rerun"]
    turns = [e for e in _ids(events, TurnCompleted)]
    assert len({e.turn_id for e in turns}) == 2  # the ready turn and this one, once each

    last = claude_emulator.message_requests()[-1].body
    results = {r["tool_use_id"]: r for r in _results(last)}
    paid_id = failed[0].tool_use_id
    assert results[paid_id]["is_error"] is True
    assert not results[reruns[0].tool_use_id].get("is_error")
    charges = await log.charges(key)
    assert not [c for c in charges if c.tool_name == "probe_paid"]
    assert "Recovered." in (telegram.bot_messages(cid)[-1].text or "")


async def test_tool_calls_projected_and_reported_by_tool(
    tool_processes: Processes,
    publisher: EventPublisher,
    telegram: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    log: Log,
    stack: Endpoints,
    broker_profile: BrokerProfile,
    e2e_prefix: str,
    pg_schema: str,
    tmp_path: Path,
) -> None:
    """The projector fills tool_calls rows from the events (status, paid, duration,
    quantities; a server tool's search too) and `botctl report` lists cost by tool: the paid
    client tool's charges and the web search priced inside the model call."""
    cid = 850601
    await _chat(tool_processes, publisher, telegram, claude_emulator, cid)
    key = thread_key(cid)
    claude_emulator.script(
        Reply(
            content=[
                ServerToolUseBlock(name="web_search", input={"query": "tool costs"}),
                WebSearchToolResultBlock(
                    results=[WebSearchResult(url="https://example.org/a", title="Costs")]
                ),
                ToolUseBlock(name="probe_paid", input={"label": "r", "units": 400}),
                ToolUseBlock(name="probe_paid", input={"label": "q", "fail": True, "units": 40}),
            ]
        ),
        text_reply("Reported."),
    )
    telegram.send_text(cid, "make a row")
    events = await log.until(key, TurnCompleted, 2)
    calls = {e.tool_use_id: e for e in _ids(events, ToolCallRequested)}
    server = [e for e in calls.values() if e.server_side]
    assert [(e.tool_name, e.input) for e in server] == [("web_search", {"query": "tool costs"})]
    debits = await log.debits(key, 1 + 2 + 2)
    tool_cost = -sum(d.amount for d in debits if d.tool_name == "probe_paid")

    await ensure_topics(stack.kafka_bootstrap, TOPICS, name_prefix=e2e_prefix)
    stop = asyncio.Event()
    projector = asyncio.create_task(
        run_projector(
            stack,
            None,
            stop,
            topic_prefix=e2e_prefix,
            schema=pg_schema,
            profile=broker_profile,
            cache_prefix=f"{pg_schema}:",
        )
    )
    conn = await asyncpg.connect(stack.database_url)
    try:

        async def rows() -> list[Any] | None:
            try:
                found = await conn.fetch(
                    f"SELECT * FROM {quote_schema(pg_schema)}.tool_calls"
                    " WHERE tool_use_id = ANY($1::text[])",
                    list(calls),
                )
            except asyncpg.UndefinedTableError:
                return None
            done = [r for r in found if r["status"] != "requested"]
            return found if len(done) == len(calls) else None

        found = {r["tool_use_id"]: r for r in await eventually(rows, 90, interval=0.3)}
        ledger_ids = {d.source_event_id for d in debits}

        async def ledger_rows() -> bool:
            n = await conn.fetchval(
                f"SELECT count(*) FROM {quote_schema(pg_schema)}.ledger_entries"
                " WHERE source_event_id = ANY($1::uuid[])",
                list(ledger_ids),
            )
            return int(n) == len(ledger_ids)

        await eventually(ledger_rows, 90, interval=0.3)
    finally:
        await conn.close()
        stop.set()
        await asyncio.wait_for(projector, 30)
    statuses = sorted((r["tool_name"], r["status"], r["paid"]) for r in found.values())
    assert statuses == [
        ("probe_paid", "completed", True),
        ("probe_paid", "failed", True),
        ("web_search", "completed", False),
    ]
    search = next(r for r in found.values() if r["tool_name"] == "web_search")
    assert search["server_side"] is True
    assert "https://example.org/a" in search["output"]
    failed = next(r for r in found.values() if r["status"] == "failed")
    assert failed["error_class"] == "provider_error"
    assert all(r["duration_ms"] is not None and r["quantities"] for r in found.values())

    result = await report(
        stack,
        since=datetime(2020, 1, 1, tzinfo=UTC),
        until=datetime(2100, 1, 1, tzinfo=UTC),
        out_dir=tmp_path,
        schema=pg_schema,
    )
    assert (tmp_path / "by_tool.csv") in result.csv
    by_tool = {
        row.split(",")[0]: row.split(",")
        for row in (tmp_path / "by_tool.csv").read_text().splitlines()[1:]
    }
    assert "probe_paid" in by_tool
    assert Decimal(by_tool["web_search"][1]) >= 1  # one search priced per use
    assert Decimal(by_tool["web_search"][2]) >= Decimal("0.01")
    assert Decimal(by_tool["probe_paid"][2]) >= tool_cost  # earlier tests' probe calls add up

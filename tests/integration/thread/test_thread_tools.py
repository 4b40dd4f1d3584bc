"""The tool loop in one process (real broker, Redis, both emulators): a newer message
interrupts a running tool, a turn interrupted again after its resumption ends with its open
call failed, pause_turn continues the same turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.emulators.claude import (
    Reply,
    ServerToolUseBlock,
    TextBlock,
    ToolUseBlock,
    WebSearchResult,
    WebSearchToolResultBlock,
    text_reply,
)
from devkit.harness.probe_tools import effects
from devkit.harness.thread import Harness, eventually, message_command, thread_events
from events.thread import AssistantMessageCompleted, TurnCancelled, TurnCompleted, TurnFailed
from events.tools import ToolCallFailed
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile


@pytest.fixture
def probe_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "effects.log"
    monkeypatch.setenv("PROBE_TOOL_LOG", str(path))
    return path


def _long_call(label: str) -> Reply:
    return Reply(content=[ToolUseBlock(name="probe_paid", input={"label": label, "seconds": 120})])


async def test_a_newer_message_interrupts_a_running_tool(
    tool_harness: Harness, stack: Endpoints, broker_profile: BrokerProfile, probe_log: Path
) -> None:
    """A message sent while a tool runs supersedes the turn: the call is failed as
    cancelled (its effect never finishes) and the new message is answered."""
    h = tool_harness
    cid = 7101
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    h.claude.script(_long_call("sup"), text_reply("Okay, something else."))
    h.submit(message_command(cid, "start a long job", message_id=1))
    await eventually(lambda: "start probe_paid sup" in effects(probe_log), 20)
    second = message_command(cid, "never mind", message_id=2)
    h.submit(second)
    await eventually(lambda: second.id in h.acked, 20)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    cancelled = [e for e in events if isinstance(e, TurnCancelled)]
    assert [c.reason for c in cancelled] == ["superseded"]
    failed = [e for e in events if isinstance(e, ToolCallFailed)]
    assert [(f.tool_name, f.error_class) for f in failed] == [("probe_paid", "cancelled")]
    assert "done probe_paid sup" not in effects(probe_log)
    assert len([e for e in events if isinstance(e, TurnCompleted)]) == 1
    assert h.telegram.bot_messages(cid)[-1].text == "Okay, something else."


async def test_a_turn_interrupted_again_ends_with_its_open_call_failed(
    tool_harness: Harness, stack: Endpoints, broker_profile: BrokerProfile, probe_log: Path
) -> None:
    """Crash during a paid call: the resumed turn fails it (interrupted, not run again) and
    goes on; a second crash during the next paid call ends the turn (no third attempt) with
    that call failed as interrupted too, each call started exactly once."""
    h = tool_harness
    cid = 7102
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    h.claude.script(_long_call("t1"), _long_call("t2"))
    cmd = message_command(cid, "two long jobs", message_id=1)
    h.submit(cmd)
    await eventually(lambda: "start probe_paid t1" in effects(probe_log), 20)
    await h.actor.stop()  # like a crash: no outcome, no ack
    h.actor.store = h.store.restarted()
    h.submit(cmd)  # redelivered: the turn resumes from its events
    await eventually(lambda: "start probe_paid t2" in effects(probe_log), 20)
    await h.actor.stop()
    h.actor.store = h.store.restarted()
    h.submit(cmd)  # redelivered again: no more attempts
    await eventually(lambda: cmd.id in h.acked, 20)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    failed = {e.id: e for e in events if isinstance(e, ToolCallFailed)}  # ids: once each
    assert sorted(f.error_class for f in failed.values()) == ["interrupted", "interrupted"]
    assert [e.error_class for e in events if isinstance(e, TurnFailed)] == ["interrupted"]
    lines = effects(probe_log)
    assert lines.count("start probe_paid t1") == 1
    assert lines.count("start probe_paid t2") == 1
    assert not [line for line in lines if line.startswith("done")]


async def test_pause_turn_continues_the_same_turn_with_the_content_unchanged(
    tool_harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """pause_turn (a long server-tool run): the paused content goes back as the API returned
    it, the same turn continues, and the step's content is in its event for a resumption."""
    h = tool_harness
    cid = 7103
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    h.claude.script(
        Reply(
            content=[
                TextBlock(text="Searching. "),
                ServerToolUseBlock(name="web_search", input={"query": "pause"}),
                WebSearchToolResultBlock(
                    results=[WebSearchResult(url="https://p.example", title="P")]
                ),
            ],
            stop_reason="pause_turn",
        ),
        text_reply("Found it."),
    )
    cmd = message_command(cid, "search long", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked, 20)
    first, second = h.claude.message_requests()[-2:]
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    paused = next(
        e
        for e in events
        if isinstance(e, AssistantMessageCompleted) and e.stop_reason == "pause_turn"
    )
    sent_back = [m for m in second.body["messages"] if m["role"] == "assistant"][-1]
    assert [b["type"] for b in paused.content] == [
        "text",
        "server_tool_use",
        "web_search_tool_result",
    ]
    unmarked = [{k: v for k, v in b.items() if k != "cache_control"} for b in sent_back["content"]]
    assert unmarked == list(paused.content)
    assert len([e for e in events if isinstance(e, TurnCompleted)]) == 1
    final = h.telegram.bot_messages(cid)[-1].text or ""
    # the answer, under the turn's trace line and above the search results as links
    assert final.splitlines()[0] == "🔍 searched the web"
    assert "Searching. Found it." in final
    assert first.body["messages"][-1]["role"] == "user"

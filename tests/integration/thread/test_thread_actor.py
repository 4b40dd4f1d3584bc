"""The thread actor in one process: real broker, Redis, Telegram and Claude emulators."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import msgspec

from devkit.emulators.claude import Overloaded, StreamBreak, text_reply
from devkit.harness.thread import (
    Harness,
    billing_commands,
    message_command,
    stop_command,
    thread_events,
)
from devkit.harness.topics import eventually
from events.messages import ForwardOrigin, ReplyTo
from events.thread import (
    AssistantMessageCompleted,
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserMessageRejected,
)
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile


def chat(h: Harness, chat_id: int) -> int:
    h.telegram.add_private_chat(chat_id)
    h.fund(chat_id)
    return chat_id


async def test_streamed_reply_drafts_then_final_message_and_usage(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """A message streams drafts, ends in a final message, and reports usage once."""
    h = harness
    cid = chat(h, 7001)
    answer = "Hello **there**, " + "streaming words " * 20
    h.claude.script(text_reply(answer, chunk_delay=0.03, chunk_size=10))
    cmd = message_command(cid, "hi", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked)
    bot_msgs = h.telegram.bot_messages(cid)
    assert len(bot_msgs) == 1
    assert bot_msgs[0].text == answer.replace("**", "").strip()
    drafts = h.telegram.drafts(cid)
    assert drafts
    assert all(len(d.history) >= 1 for d in drafts.values())
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("TurnCompleted") == 1
    completed = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    assert completed[0].usage.output_tokens > 0
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert [c.operation_id for c in charges] == [f"usage:{completed[0].id}"]


async def test_stop_mid_stream_keeps_partial_and_charges_partial(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """/stop during streaming cuts the stream: the turn is cancelled (nothing completed), the
    partial answer is the last thing shown (no draft after it, none beyond the partial text)
    and its usage is charged once. How fast the stop lands: bench/bench_stop.py."""
    h = harness
    cid = chat(h, 7002)
    full = "word " * 2000  # streams for about 100 s unless cut
    h.claude.script(text_reply(full, chunk_delay=0.05, chunk_size=5))
    cmd = message_command(cid, "long please", message_id=1)
    h.submit(cmd)
    await eventually(lambda: any(d.history for d in h.telegram.drafts(cid).values()), 10)
    h.submit(stop_command(cid))
    await eventually(lambda: cmd.id in h.acked, 30)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    cancelled = [e for e in events if isinstance(e, TurnCancelled)]
    assert len(cancelled) == 1
    assert cancelled[0].reason == "stop_command"
    assert not [e for e in events if isinstance(e, TurnCompleted | AssistantMessageCompleted)]
    partial = cancelled[0].partial_text
    assert partial.strip()
    assert full.startswith(partial)
    assert len(partial) < len(full)  # the stream was cut, not waited out
    visible = h.telegram.bot_messages(cid)
    assert len(visible) == 1
    assert (visible[0].text or "").startswith(partial.rstrip())
    assert "stopped" in (visible[0].text or "")
    sent = [
        (c.method, str(c.params.get("text", "")))
        for c in h.telegram.calls()
        if c.error is None and str(c.params.get("chat_id")) == str(cid)
    ]
    assert sent[-1][0] == "sendMessage"  # no draft landed after the partial answer
    drafted = [text for method, text in sent if method == "sendMessageDraft"]
    assert drafted
    assert all(partial.startswith(text.rstrip()) for text in drafted)
    assert cancelled[0].partial_usage.output_tokens > 0
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert [c.source for c in charges] == ["cancelled_call"]
    assert charges[0].usage == cancelled[0].partial_usage


async def test_new_message_cancels_the_running_turn(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """A second message supersedes the first turn, which is cancelled; the second answers."""
    h = harness
    cid = chat(h, 7003)
    h.claude.script(text_reply("slow " * 300, chunk_delay=0.05, chunk_size=5))
    first = message_command(cid, "first", message_id=1)
    second = message_command(cid, "second", message_id=2)
    h.submit(first)
    await h.claude.wait_for_requests(1, timeout=10)
    await asyncio.sleep(0.2)
    h.submit(second)
    await eventually(lambda: second.id in h.acked and first.id in h.acked, 10)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    cancelled = [e for e in events if isinstance(e, TurnCancelled)]
    assert [c.reason for c in cancelled] == ["superseded"]
    assert sum(isinstance(e, TurnCompleted) for e in events) == 1
    assert h.telegram.bot_messages(cid)[-1].text == "second"
    last_request = h.claude.last_message_request().body
    texts = [b.get("text") for m in last_request["messages"] for b in m["content"]]
    assert "first" in texts
    assert "second" in texts


async def test_failures_report_a_class_and_tell_the_user(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """529 before streaming: turn failed 'overloaded', no charge; a broken stream: partial."""
    h = harness
    cid = chat(h, 7004)
    h.claude.fail_next(Overloaded())
    one = message_command(cid, "one", message_id=1)
    h.submit(one)
    await eventually(lambda: one.id in h.acked)
    h.claude.script(text_reply("part " * 50, failure=StreamBreak(after_events=8)))
    two = message_command(cid, "two", message_id=2)
    h.submit(two)
    await eventually(lambda: two.id in h.acked)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    failed = [e for e in events if isinstance(e, TurnFailed)]
    assert [f.error_class for f in failed] == ["overloaded", "stream_broken"]
    assert failed[0].partial_usage.is_zero()
    assert not failed[1].partial_usage.is_zero()
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert [c.source_event_id for c in charges] == [failed[1].id]
    texts = [m.text or "" for m in h.telegram.bot_messages(cid)]
    assert any("overloaded" in t for t in texts)


async def test_sixth_generation_of_a_user_waits_in_line(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """Five slow turns in five threads of one user run; the sixth waits in line with a
    notice and starts when one of the five is stopped."""
    h = harness
    user = 7010
    h.fund(user)
    h.telegram.add_group(-7010, forum=True)
    topics = [h.telegram.create_topic(-7010, f"t{i}")["message"]["message_thread_id"]
              for i in range(6)]  # fmt: skip
    for _ in range(12):  # six turns and up to six topic titles: every request is slow
        h.claude.script(text_reply("slow " * 400, chunk_delay=0.05, chunk_size=5))
    commands = [
        message_command(
            -7010,
            f"q{i}",
            message_id=100 + i,
            user_id=user,
            thread_id=topic,
            chat_type="supergroup",
        )
        for i, topic in enumerate(topics)
    ]

    def asked(text: str) -> bool:  # a turn's request or its topic title's: it has started
        return any(text in json.dumps(r.body) for r in h.claude.requests)

    for command in commands[:5]:
        h.submit(command)
    await eventually(lambda: all(asked(f"q{i}") for i in range(5)), 10)
    h.submit(commands[5])
    queued = topics[5]
    await eventually(
        lambda: any(
            "waits in line" in (m.text or "")
            for m in h.telegram.bot_messages(-7010, thread_id=queued)
        ),
        10,
    )
    assert commands[5].id not in h.acked
    h.submit(stop_command(-7010, thread_id=topics[0]))
    await eventually(lambda: asked("q5"), 10)  # not a count: topic titles are requests too
    for topic in topics:
        h.submit(stop_command(-7010, thread_id=topic))
    await eventually(lambda: all(c.id in h.acked for c in commands), 10)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert not [e for e in events if isinstance(e, UserMessageRejected)]
    assert sum(isinstance(e, TurnStarted) for e in events) == 6


async def test_max_tokens_continues_in_a_second_step(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """stop_reason max_tokens: the turn continues (assistant prefill), two charged steps,
    one final message with the whole text."""
    h = harness
    cid = chat(h, 7005)
    h.claude.script(
        text_reply("First half of the answer,", stop_reason="max_tokens"),
        text_reply(" and the second half."),
    )
    cmd = message_command(cid, "continue me", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked)
    assert [m.text for m in h.telegram.bot_messages(cid)] == [
        "First half of the answer, and the second half."
    ]
    second = h.claude.message_requests()[-1].body["messages"]
    assert second[-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "First half of the answer,"}],
    }
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    steps = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    assert [(s.step, s.stop_reason) for s in steps] == [(1, "max_tokens"), (2, "end_turn")]
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert sorted(c.operation_id for c in charges) == sorted(f"usage:{s.id}" for s in steps)


async def test_user_model_and_thread_override_choose_the_model(harness: Harness) -> None:
    """The user's /model default applies; a thread override wins over it."""
    from actors.thread.models import HAIKU, OPUS
    from events.envelope import new_envelope
    from events.keys import thread_key
    from events.thread import SettingsOverrideRequested

    h = harness
    cid = chat(h, 7006)
    h.actor.preferences.users.setdefault(cid, type(h.actor.preferences.get(cid))()).model = HAIKU
    first = message_command(cid, "which model?", message_id=1)
    h.submit(first)
    await eventually(lambda: first.id in h.acked)
    assert h.claude.last_message_request().body["model"] == HAIKU
    override = SettingsOverrideRequested(
        **new_envelope(key=thread_key(cid), producer="test"), user_id=cid, model=OPUS
    )
    h.submit(override)
    second = message_command(cid, "and now?", message_id=2)
    h.submit(second)
    await eventually(lambda: second.id in h.acked)
    assert h.claude.last_message_request().body["model"] == OPUS


async def test_redelivered_command_is_a_no_op(harness: Harness) -> None:
    """The same command delivered twice is answered once (dedupe by command id)."""
    h = harness
    cid = chat(h, 7007)
    cmd = message_command(cid, "only once", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked)
    h.submit(cmd)
    await eventually(lambda: h.acked.count(cmd.id) == 2)
    assert len(h.telegram.bot_messages(cid)) == 1
    assert len(h.claude.message_requests()) == 1


async def test_interrupted_turn_is_rerun_once_after_restart(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """A turn abandoned mid-stream (worker gone) is re-run when its command comes back;
    a second interruption ends it as failed 'interrupted', exactly once."""
    h = harness
    cid = chat(h, 7008)
    h.claude.script(text_reply("never " * 300, chunk_delay=0.05, chunk_size=6))
    cmd = message_command(cid, "first try", message_id=1)
    h.submit(cmd)
    await h.claude.wait_for_requests(1, timeout=10)
    await h.actor.stop()  # like a crash: no terminal event, no ack
    assert cmd.id not in h.acked
    h.actor.store = h.store.restarted()  # the next worker folds the stored snapshot + deltas
    h.claude.script(text_reply("again " * 300, chunk_delay=0.05, chunk_size=6))
    h.submit(cmd)  # redelivered: attempt 2
    await h.claude.wait_for_requests(2, timeout=10)
    await h.actor.stop()
    h.actor.store = h.store.restarted()
    h.submit(cmd)  # redelivered again: attempts exhausted
    await eventually(lambda: cmd.id in h.acked, 10)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    failed = [e for e in events if isinstance(e, TurnFailed)]
    assert [f.error_class for f in failed] == ["interrupted"]
    assert len({e.id for e in events if isinstance(e, TurnStarted)}) == 1  # redelivery: same id
    assert "interrupted" in (h.telegram.bot_messages(cid)[-1].text or "")


async def test_undeliverable_answer_fails_the_turn_and_charges_the_completed_call(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """Telegram refusing the final answer fails the turn; the finished call's usage is charged
    once, with the answer's record (made before the send), the failure charges nothing, and
    the answer the user never saw is not in the conversation's history."""
    h = harness
    cid = chat(h, 7010)
    h.claude.script(text_reply("a complete answer that Telegram will refuse"))
    h.telegram.fail_next(
        "sendMessage",
        error_code=403,
        description="Forbidden: bot was blocked by the user",
        times=10,
        chat_id=cid,
    )
    cmd = message_command(cid, "hi", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    (failed,) = [e for e in events if isinstance(e, TurnFailed)]
    assert not [e for e in events if isinstance(e, TurnCompleted)]
    (answer,) = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    assert answer.final
    assert answer.telegram_message_ids == ()
    assert answer.usage.output_tokens > 0
    assert answer.usage.input_tokens > 0
    assert failed.partial_usage.is_zero()
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert [(c.source_event_id, c.usage) for c in charges] == [(answer.id, answer.usage)]
    stored = h.actor.store.load(cmd.key)
    assert stored is not None
    assert not [i for i in stored.state.history if i.role == "assistant"]  # never shown


async def test_the_balance_refusal_is_repeated_at_most_once_per_ten_seconds(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """An unfunded user writing three times: every message is rejected, the refusal is sent
    for the first and again only once 10 s have passed (a stepped clock)."""
    h = harness
    chat = 7020
    h.fund(chat, "-0.50")
    h.telegram.add_private_chat(chat)
    now = [1000.0]
    h.actor.config.clock = lambda: now[0]
    sent = [message_command(chat, f"m{i}", message_id=300 + i) for i in range(3)]

    def refusals() -> int:
        return sum("can't answer" in (m.text or "") for m in h.telegram.bot_messages(chat))

    for step, command in zip((0.0, 9.0, 1.0), sent, strict=True):
        now[0] += step
        h.submit(command)
        await eventually(lambda c=command: c.id in h.acked, 10)  # type: ignore[misc]
    await eventually(lambda: refusals() == 2, 10)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    rejected = [e for e in events if isinstance(e, UserMessageRejected)]
    assert [r.reason for r in rejected] == ["insufficient_balance"] * 3
    assert refusals() == 2


async def test_in_a_group_the_model_sees_author_forward_and_reply(harness: Harness) -> None:
    """A group message reaches Claude with who wrote it, its forward origin and the replied text."""
    h = harness
    h.fund(7030)
    h.telegram.add_group(-7030, forum=True)
    topic = h.telegram.create_topic(-7030, "g")["message"]["message_thread_id"]
    h.claude.script(text_reply("ok"))
    base = message_command(
        -7030, "what about this?", message_id=400, user_id=7030, thread_id=topic,
        chat_type="supergroup",
    )  # fmt: skip
    message = msgspec.structs.replace(
        base.message,
        reply_to=ReplyTo(message_id=399, from_bot=True, text="an earlier answer"),
        forward_origin=ForwardOrigin(kind="channel", date=datetime.now(UTC), chat_title="News"),
    )
    command = msgspec.structs.replace(base, message=message)
    h.submit(command)
    await h.claude.wait_for_requests(2, timeout=10)  # the turn's and the topic title's
    turn = next(r for r in h.claude.message_requests() if r.body.get("stream"))
    content = turn.body["messages"][-1]["content"]
    texts = [block.get("text", "") for block in content]
    assert (
        "[from Tester; forwarded from News; replying to your message «an earlier answer»]\n"
        "what about this?"
    ) in texts
    await eventually(lambda: command.id in h.acked, 10)

"""A thread whose forum topic ``/clear`` deleted ends cleanly: its running turn is
cancelled with the partial usage charged, nothing is sent to the gone topic, and a later
message under the same topic id starts a fresh thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from actors.gateway.commands import topic_deleted
from devkit.emulators.claude import text_reply
from devkit.emulators.telegram import Topic
from devkit.harness.thread import Harness, billing_commands, message_command, thread_events
from devkit.harness.topics import eventually
from events.thread import ConversationReset, ThreadOpened, TurnCancelled, TurnStarted
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile

GROUP = -7801
USER = 7801


async def test_deleting_the_topic_cancels_its_turn_charges_it_and_ends_the_thread(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """Mid-stream, the topic is deleted and the thread told so: the turn is cancelled as
    ``topic_deleted`` with its partial usage charged (``cancelled_call``), no notice or
    partial answer goes out, the thread's state ends (``conversation_reset`` with
    ``topic_deleted``), and a message under the same id later opens a fresh thread whose
    request holds only that message."""
    h = harness
    h.fund(USER)
    h.telegram.add_group(GROUP, forum=True)
    topic = int(h.telegram.create_topic(GROUP, "Soon gone")["message"]["message_thread_id"])
    h.claude.script(text_reply("slow words " * 400, chunk_delay=0.05, chunk_size=5))
    first = message_command(
        GROUP, "tell me a long story", message_id=10, user_id=USER, thread_id=topic,
        chat_type="supergroup",
    )  # fmt: skip
    h.submit(first)
    await h.claude.wait_for_requests(1, timeout=20)
    await asyncio.sleep(0.5)  # let it stream a little (groups get no drafts to watch)
    h.telegram.chat(GROUP).topics.pop(topic)  # what deleteForumTopic did
    sent_before = len(h.telegram.calls("sendMessage"))
    now = datetime.now(UTC)
    gone = topic_deleted(
        chat_id=GROUP, message_thread_id=topic, user_id=USER, by_admin=True,
        confirmation_id=99, confirmation_sent_at=now, received_at=now,
    )  # fmt: skip
    h.submit(gone)
    await eventually(lambda: first.id in h.acked and gone.id in h.acked, 10)
    assert len(h.telegram.calls("sendMessage")) == sent_before

    h.telegram.chat(GROUP).topics[topic] = Topic(topic, "Same id again", 7322096)
    h.claude.script(text_reply("fresh answer"))
    later = message_command(
        GROUP, "hello again", message_id=20, user_id=USER, thread_id=topic,
        chat_type="supergroup",
    )  # fmt: skip
    h.submit(later)
    await eventually(lambda: later.id in h.acked, 10)

    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    ours = [e for e in events if e.key == f"{GROUP}:{topic}"]
    [cancelled] = [e for e in ours if isinstance(e, TurnCancelled)]
    assert cancelled.reason == "topic_deleted"
    assert not cancelled.partial_usage.is_zero()
    [reset] = [e for e in ours if isinstance(e, ConversationReset)]
    assert reset.topic_deleted
    assert reset.by_admin
    kinds = [type(e) for e in ours]
    assert kinds.index(TurnCancelled) < kinds.index(ConversationReset)
    assert sum(k is ThreadOpened for k in kinds) == 2
    assert sum(k is TurnStarted for k in kinds) == 2
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert "cancelled_call" in [c.source for c in charges]
    # the later turn's request (its topic title is asked for by a request of its own)
    request = [r.body for r in h.claude.message_requests() if r.body.get("stream")][-1]
    texts = [b.get("text", "") for m in request["messages"] for b in m["content"]]
    assert any("hello again" in t for t in texts)
    assert not any("long story" in t for t in texts)

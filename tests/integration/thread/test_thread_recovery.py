"""A turn interrupted by a crash, taken over by the next worker together with newer commands."""

from __future__ import annotations

from devkit.emulators.claude import text_reply
from devkit.harness.thread import Harness, message_command, stop_command, thread_events
from devkit.harness.topics import eventually
from events.thread import (
    TurnCancelled,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserMessageReceived,
)
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile

TERMINAL = (TurnCompleted, TurnFailed, TurnCancelled)


async def _crash_mid_turn(h: Harness, cid: int, text: str) -> UserMessageReceived:
    """Start a turn streaming slowly, then lose the worker (no terminal event, no ack)."""
    h.telegram.add_private_chat(cid)
    h.fund(cid)
    h.claude.script(text_reply("never " * 300, chunk_delay=0.05, chunk_size=6))
    cmd = message_command(cid, text, message_id=1)
    h.submit(cmd)
    await h.claude.wait_for_requests(1, timeout=10)
    await h.actor.stop()  # like kill -9: the turn's task is gone, its command unacked
    assert cmd.id not in h.acked
    h.actor.store = h.store.restarted()  # the next worker folds the stored snapshot + deltas
    return cmd


async def test_a_newer_message_in_the_takeover_batch_cancels_the_recovered_turn(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """The worker that takes the partition over gets the interrupted turn's command and the
    user's next message at once: the recovered turn ends exactly once (cancelled as
    superseded), it is never silently replaced, and the next message is answered."""
    h = harness
    cid = 7101
    first = await _crash_mid_turn(h, cid, "first try")
    h.claude.script(text_reply("the second answer"))
    second = message_command(cid, "second", message_id=2)
    h.submit(first)  # redelivered from the committed offset...
    h.submit(second)  # ...in the same fetch as the message sent while no worker ran
    await eventually(lambda: first.id in h.acked and second.id in h.acked, 20)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    mine = [e for e in events if e.key == first.key]
    turns = list(dict.fromkeys(e.turn_id for e in mine if isinstance(e, TurnStarted)))
    assert len(turns) == 2
    ends = {t: [type(e).__name__ for e in mine if isinstance(e, TERMINAL) and e.turn_id == t]
            for t in turns}  # fmt: skip
    assert ends == {turns[0]: ["TurnCancelled"], turns[1]: ["TurnCompleted"]}
    assert "the second answer" in (h.telegram.bot_messages(cid)[-1].text or "")


async def test_a_stop_in_the_takeover_batch_ends_the_recovered_turn_once(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """/stop right behind the redelivered command of an interrupted turn: the recovered turn
    ends exactly once, as stopped, and no turn is left running."""
    h = harness
    cid = 7102
    first = await _crash_mid_turn(h, cid, "will be stopped")
    stop = stop_command(cid)
    h.submit(first)
    h.submit(stop)
    await eventually(lambda: first.id in h.acked and stop.id in h.acked, 20)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    mine = [e for e in events if e.key == first.key]
    ends = [e for e in mine if isinstance(e, TERMINAL)]
    assert [(type(e).__name__, getattr(e, "reason", "")) for e in ends] == [
        ("TurnCancelled", "stop_command")
    ]
    stored = h.actor.store.load(first.key)
    assert stored is not None
    assert stored.state.running is None

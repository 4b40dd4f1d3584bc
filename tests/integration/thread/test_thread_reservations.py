"""Reservations from the thread actor: each model call holds its estimated cost until its
charge settles it, and the balance check counts what running turns hold."""

from __future__ import annotations

from devkit.emulators.claude import Overloaded, text_reply
from devkit.harness.thread import (
    Harness,
    billing_commands,
    eventually,
    message_command,
    reservation_commands,
    stop_command,
    thread_events,
)
from events.billing import ReservationReleaseRequested, UsageReserveRequested
from events.thread import AssistantMessageCompleted, TurnStarted, UserMessageRejected
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile


async def test_each_model_call_reserves_before_it_runs_and_its_charge_settles_it(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """A two-step turn: two reservations (turn:1, turn:2), each named by its step's charge,
    each published before that charge."""
    h = harness
    h.telegram.add_private_chat(7101)
    h.fund(7101)
    h.claude.script(
        text_reply("First half,", stop_reason="max_tokens"), text_reply(" second half.")
    )
    cmd = message_command(7101, "go", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked)
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    [started] = [e for e in events if isinstance(e, TurnStarted)]
    steps = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    reserves = await reservation_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    rids = [f"{started.turn_id}:1", f"{started.turn_id}:2"]
    assert [r.reservation_id for r in reserves] == rids
    assert all(isinstance(r, UsageReserveRequested) and r.amount > 0 for r in reserves)
    charges = await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    by_event = {c.source_event_id: c.reservation_id for c in charges}
    assert [by_event[s.id] for s in steps] == rids
    assert h.balances.holds.open == {}  # settled locally too once the ledger confirms


async def test_a_call_that_consumed_nothing_releases_its_reservation(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """529 before any token: the turn fails without a charge and releases its hold."""
    h = harness
    h.telegram.add_private_chat(7102)
    h.fund(7102)
    h.claude.fail_next(Overloaded())
    cmd = message_command(7102, "one", message_id=1)
    h.submit(cmd)
    await eventually(lambda: cmd.id in h.acked)
    found = await reservation_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    assert [type(c) for c in found] == [UsageReserveRequested, ReservationReleaseRequested]
    release = found[1]
    assert isinstance(release, ReservationReleaseRequested)
    assert (release.reservation_id, release.reason) == (found[0].reservation_id, "turn_failed")
    assert await billing_commands(stack.kafka_bootstrap, broker_profile, h.prefix) == []
    assert await h.balances.balance(7102) == 1


async def test_a_second_turn_cannot_start_on_what_a_running_turn_holds(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """Balance $0.01, one slow turn running in topic A (its call's estimate is held): a
    message in topic B is refused for the balance (it used to start, and both were charged
    afterwards, past the balance)."""
    h = harness
    user = 7103
    h.fund(user, "0.01")
    h.telegram.add_group(-7103, forum=True)
    a, b = (h.telegram.create_topic(-7103, n)["message"]["message_thread_id"] for n in "AB")
    h.claude.script(text_reply("slow " * 200, chunk_delay=0.05, chunk_size=5))

    def ask(topic: int, n: int) -> object:
        return message_command(
            -7103,
            f"q{n}",
            message_id=200 + n,
            user_id=user,
            thread_id=topic,
            chat_type="supergroup",
        )

    first, second = ask(a, 1), ask(b, 2)
    h.submit(first)
    await h.claude.wait_for_requests(1, timeout=10)
    assert (await h.balances.balance(user) or 0) <= 0
    h.submit(second)
    await eventually(lambda: second.id in h.acked, 10)  # type: ignore[attr-defined]
    h.submit(stop_command(-7103, thread_id=a))
    await eventually(lambda: first.id in h.acked, 10)  # type: ignore[attr-defined]
    events = await thread_events(stack.kafka_bootstrap, broker_profile, h.prefix)
    rejected = [e for e in events if isinstance(e, UserMessageRejected)]
    assert [r.reason for r in rejected] == ["insufficient_balance"]
    assert sum(isinstance(e, TurnStarted) for e in events) == 1


async def test_an_interrupted_turn_that_is_not_rerun_releases_what_its_call_reserved(
    harness: Harness, stack: Endpoints, broker_profile: BrokerProfile
) -> None:
    """Two crashes mid-call: the turn ends 'interrupted' and releases the reservation of the
    call that never finished (it used to stay held until it expired)."""
    h = harness
    h.telegram.add_private_chat(7104)
    h.fund(7104)
    cmd = message_command(7104, "first try", message_id=1)
    for attempt in (1, 2):
        h.claude.script(text_reply("never " * 300, chunk_delay=0.05, chunk_size=6))
        h.submit(cmd)
        await h.claude.wait_for_requests(attempt, timeout=10)
        await h.actor.stop()  # like a crash: no terminal event, no ack
        h.actor.store = h.store.restarted()
    h.submit(cmd)  # attempts exhausted: failed 'interrupted'
    await eventually(lambda: cmd.id in h.acked, 10)
    found = await reservation_commands(stack.kafka_bootstrap, broker_profile, h.prefix)
    reserved = {c.reservation_id for c in found if isinstance(c, UsageReserveRequested)}
    released = [c for c in found if isinstance(c, ReservationReleaseRequested)]
    assert [(r.reservation_id, r.reason) for r in released] == [
        (next(iter(reserved)), "interrupted")
    ]
    assert len(reserved) == 1  # the re-run reserved under the same operation id

"""kill -9 of the thread worker mid-turn: after a restart the turn ends exactly once."""

from __future__ import annotations

import pytest
from thread_e2e import (
    WorkerProcess,
    charges_of,
    events_of,
    eventually,
    fund,
    send,
    wait_ready,
)

from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from events.keys import thread_key
from events.thread import (
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserMessageAccepted,
)
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow


async def test_kill_9_mid_turn_completes_exactly_once(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """SIGKILL while streaming; the restarted worker ends the turn once, charges once,
    and the conversation (an earlier turn: a snapshot and deltas in the changelog) and the
    user's message survive."""
    await wait_ready(thread_worker, publisher, telegram_emulator, 830001)
    claude_emulator.reset()
    cid = 830002
    key = thread_key(cid)
    telegram_emulator.add_private_chat(cid)
    await fund(publisher, cid)
    claude_emulator.script(text_reply("noted: kiwi"))
    await send(publisher, cid, "remember the word kiwi", message_id=9)
    await eventually(lambda: telegram_emulator.bot_messages(cid), 30, interval=0.1)

    async def first_turn_done() -> list[object] | None:
        found = await events_of(stack.kafka_bootstrap, broker_profile, thread_worker.prefix, key)
        return found if any(isinstance(e, TurnCompleted) for e in found) else None

    earlier = {getattr(e, "id", None) for e in await eventually(first_turn_done, 30)}
    claude_emulator.script(text_reply("crash " * 400, chunk_delay=0.1, chunk_size=6))
    command = await send(publisher, cid, "please survive a crash", message_id=10)
    await eventually(lambda: any(d.history for d in telegram_emulator.drafts(cid).values()), 30)
    requests_before = len(claude_emulator.message_requests())
    thread_worker.kill9()
    assert len(telegram_emulator.bot_messages(cid)) == 1

    thread_worker.start()
    await eventually(lambda: len(telegram_emulator.bot_messages(cid)) > 1, 90, interval=0.2)

    async def terminal() -> list[object] | None:
        found = await events_of(stack.kafka_bootstrap, broker_profile, thread_worker.prefix, key)
        found = [e for e in found if getattr(e, "id", None) not in earlier]
        return found if any(isinstance(e, TurnCompleted | TurnFailed) for e in found) else None

    events = await eventually(terminal, 30)
    rerun = claude_emulator.message_requests()[requests_before:]
    assert rerun, "the interrupted turn is re-run after the restart"
    # the restored state (snapshot + deltas) still holds the first exchange
    assert "remember the word kiwi" in str(rerun[-1].body)
    assert "noted: kiwi" in str(rerun[-1].body)
    started = {e.id: e for e in events if isinstance(e, TurnStarted)}
    assert len(started) == 1
    turn_id = next(iter(started.values())).turn_id
    ends = {
        e.id for e in events if isinstance(e, TurnCompleted | TurnFailed) and e.turn_id == turn_id
    }
    assert len(ends) == 1
    accepted = {e.id for e in events if isinstance(e, UserMessageAccepted)}
    assert len(accepted) == 1
    assert next(e for e in events if isinstance(e, UserMessageAccepted)).causation_id == command.id
    charges = await charges_of(stack.kafka_bootstrap, broker_profile, thread_worker.prefix, key)
    assert len({c.operation_id for c in charges if c.source_event_id not in earlier}) == 1
    assert len(telegram_emulator.bot_messages(cid)) == 2

"""The thread worker process end to end: inbox commands in, Telegram messages and events out."""

from __future__ import annotations

import base64

import pytest
import pytest_asyncio
from conftest import WorkerProcess, wait_ready
from thread_e2e import charges_of, events_of, eventually, fund, send

from events.keys import thread_key
from events.thread import (
    AssistantMessageCompleted,
    TurnCompleted,
)
from infra.emulators.claude import (
    ClaudeEmulator,
    text_reply,
)
from infra.emulators.telegram import TelegramEmulator
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

pytestmark = pytest.mark.slow

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest_asyncio.fixture(loop_scope="session")
async def worker(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> WorkerProcess:
    """The shared worker, ready (each test starts from clean emulators)."""
    await wait_ready(thread_worker, publisher, telegram_emulator, 900001)
    claude_emulator.reset()
    return thread_worker


async def new_chat(publisher: EventPublisher, telegram: TelegramEmulator, chat_id: int) -> int:
    telegram.add_private_chat(chat_id)
    await fund(publisher, chat_id)
    return chat_id


def texts(telegram: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text or "" for m in telegram.bot_messages(chat_id)]


async def test_streamed_reply(
    worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    stack: Endpoints,
    broker_profile: BrokerProfile,
) -> None:
    """A message is answered with drafts, then a final message, and its usage is charged."""
    cid = await new_chat(publisher, telegram_emulator, 810001)
    answer = "Streaming *answer* " + "with many words " * 30
    claude_emulator.script(text_reply(answer, chunk_delay=0.05, chunk_size=16, contains="stream"))
    await send(publisher, cid, "stream please", message_id=10)
    await eventually(lambda: texts(telegram_emulator, cid), 20)
    assert texts(telegram_emulator, cid)[0].startswith("Streaming answer")
    draft = next(iter(telegram_emulator.drafts(cid).values()))
    assert len(draft.history) >= 2
    key = thread_key(cid)
    events = await eventually(
        lambda: _with(events_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key),
                      TurnCompleted), 20)  # fmt: skip
    completed = [e for e in events if isinstance(e, AssistantMessageCompleted)]
    charges = await charges_of(stack.kafka_bootstrap, broker_profile, worker.prefix, key)
    assert [c.operation_id for c in charges] == [f"usage:{completed[0].id}"]
    actions = telegram_emulator.chat_actions(cid)
    assert any(a.action == "typing" for a in actions)


async def _with(coro: object, kind: type) -> list[object] | None:
    found = await coro  # type: ignore[misc]
    return found if any(isinstance(e, kind) for e in found) else None

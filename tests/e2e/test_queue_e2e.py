"""Forum topics through the gateway and thread worker processes: a user's sixth concurrent
request waits in line with a notice (its wait from ``THREAD_QUEUE_WAIT``) and is answered
once one of the five running answers ends; /clear deletes a topic after the admin's Yes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from thread_e2e import ROOT, WorkerProcess, events_of, eventually, fund, wait_ready, worker_env

from actors.thread.models import SONNET
from devkit.emulators.claude import ClaudeEmulator, text_reply
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.processes import stop_process
from devkit.harness.service_fork import spawn
from events.keys import thread_key
from events.thread import ConversationReset
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.services.supervisor import botctl_argv

pytestmark = pytest.mark.slow

GROUP = -1008501
USER = 8501
QUEUE_WAIT_SECONDS = 120


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def thread_worker(
    stack: Endpoints,
    e2e_prefix: str,
    telegram_emulator_server: TelegramEmulator,
    claude_emulator_server: ClaudeEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[WorkerProcess]:
    """A worker whose requests wait in line up to 2 minutes (``THREAD_QUEUE_WAIT``)."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = worker_env(
        stack,
        e2e_prefix,
        telegram_emulator_server,
        claude_emulator_server,
        THREAD_QUEUE_WAIT=str(QUEUE_WAIT_SECONDS),
        THREAD_FIRST_TOKEN_TIMEOUT="30",
        THREAD_IDLE_TIMEOUT="30",
    )
    worker = WorkerProcess(stack, e2e_prefix, env, log_path)
    worker.start()
    yield worker
    await worker.stop()


def _asked(claude: ClaudeEmulator) -> list[Any]:
    """The answer requests (the default model; topic titles are asked of Haiku)."""
    return [r for r in claude.message_requests() if r.body.get("model") == SONNET]


def _texts(telegram: TelegramEmulator, topic: int) -> list[str]:
    return [m.text or "" for m in telegram.bot_messages(GROUP, thread_id=topic)]


async def test_the_sixth_request_waits_in_line_and_is_answered_when_a_slot_frees(
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """Five slow answers run in five topics; the sixth message gets the queue notice (with
    the configured 2 minutes), reaches the model only after /stop ends one of the five, and
    is then answered in its topic."""
    await wait_ready(thread_worker, publisher, telegram_emulator, 850001, timeout=240)
    claude_emulator.reset()
    gateway_log = thread_worker.log_path.with_name("gateway.log")
    gateway = spawn(botctl_argv("gateway"), thread_worker.env, ROOT, gateway_log)
    try:
        telegram_emulator.add_group(GROUP, forum=True)
        await fund(publisher, USER, "10.00")
        created = [telegram_emulator.create_topic(GROUP, f"t{i}", user_id=USER) for i in range(6)]
        topics = [int(update["message"]["message_thread_id"]) for update in created]
        slow = "slow " * 2000
        for i in range(5):
            claude_emulator.script(
                text_reply(slow, chunk_delay=0.1, chunk_size=5, contains=f"q{i}", model=SONNET)
            )
        claude_emulator.script(text_reply("the sixth answer", contains="q5", model=SONNET))
        for i in range(5):
            telegram_emulator.send_text(GROUP, f"q{i} please", user_id=USER, thread_id=topics[i])
        await eventually(lambda: len(_asked(claude_emulator)) >= 5, 240, interval=0.1)
        telegram_emulator.send_text(GROUP, "q5 please", user_id=USER, thread_id=topics[5])
        await eventually(
            lambda: any("waits in line" in t for t in _texts(telegram_emulator, topics[5])),
            90,
            interval=0.1,
        )
        notice = next(t for t in _texts(telegram_emulator, topics[5]) if "waits in line" in t)
        assert "up to 2 min" in notice
        assert not any("q5" in str(r.body["messages"]) for r in _asked(claude_emulator))

        telegram_emulator.send_command(GROUP, "stop", user_id=USER, thread_id=topics[0])
        await eventually(
            lambda: "the sixth answer" in _texts(telegram_emulator, topics[5]), 90, interval=0.1
        )
        for topic in topics[1:5]:
            telegram_emulator.send_command(GROUP, "stop", user_id=USER, thread_id=topic)
        await eventually(
            lambda: all(any("top" in t for t in _texts(telegram_emulator, x)) for x in topics[1:5]),
            90,
            interval=0.1,
        )
    finally:
        await stop_process(gateway)


CLEAR_GROUP = -1008502
ADMIN = 8502


async def test_clear_deletes_the_topic_after_the_admins_yes_and_ends_its_thread(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    e2e_prefix: str,
    thread_worker: WorkerProcess,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
) -> None:
    """Through the gateway and thread worker processes: a conversation in a forum topic,
    then the group admin's /clear there asks "Delete this topic?" with Yes / Cancel; Yes
    deletes the topic in Telegram and the worker ends its thread (``topic_deleted``)."""
    await wait_ready(thread_worker, publisher, telegram_emulator, 850002, timeout=240)
    gateway_log = thread_worker.log_path.with_name("gateway-clear.log")
    gateway = spawn(botctl_argv("gateway"), thread_worker.env, ROOT, gateway_log)
    try:
        telegram_emulator.add_group(CLEAR_GROUP, forum=True, admins=(ADMIN,))
        await fund(publisher, ADMIN, "5.00")
        created = telegram_emulator.create_topic(CLEAR_GROUP, "doomed", user_id=ADMIN)
        topic = int(created["message"]["message_thread_id"])
        claude_emulator.script(
            text_reply("answered in the topic", contains="hello topic", model=SONNET)
        )
        telegram_emulator.send_text(CLEAR_GROUP, "hello topic", user_id=ADMIN, thread_id=topic)
        in_topic = lambda: [  # noqa: E731
            m for m in telegram_emulator.bot_messages(CLEAR_GROUP, thread_id=topic)
        ]
        await eventually(
            lambda: any("answered in the topic" in (m.text or "") for m in in_topic()),
            120,
            interval=0.1,
        )
        telegram_emulator.send_command(CLEAR_GROUP, "clear", user_id=ADMIN, thread_id=topic)
        question = await eventually(
            lambda: next((m for m in in_topic() if "reply_markup" in m.json), None),
            120,
            interval=0.1,
        )
        assert "Delete this topic" in (question.text or "")
        assert topic in telegram_emulator.topics(CLEAR_GROUP)
        telegram_emulator.press_button(CLEAR_GROUP, question.message_id, "Yes", user_id=ADMIN)
        await eventually(
            lambda: topic not in telegram_emulator.topics(CLEAR_GROUP), 120, interval=0.1
        )
        key = thread_key(CLEAR_GROUP, topic)

        async def reset() -> list[ConversationReset]:
            found = await events_of(stack.kafka_bootstrap, broker_profile, e2e_prefix, key)
            return [e for e in found if isinstance(e, ConversationReset) and e.topic_deleted]

        [ended] = await eventually(reset, 120, interval=0.5)
        assert ended.key == key
    finally:
        await stop_process(gateway)

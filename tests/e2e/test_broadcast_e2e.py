"""/announce end to end: the gateway, the projector and the broadcaster as processes, the
Telegram emulator counting every send."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from broadcast_e2e import (
    Service,
    known_users,
    most_in_one_second,
    outcomes_of,
    register_users,
    send_times,
)
from thread_e2e import worker_env

from actors.broadcast import policy
from devkit.emulators.claude import ClaudeEmulator
from devkit.emulators.telegram import TelegramEmulator
from devkit.harness.processes import stop_processes
from devkit.harness.topics import eventually, read_topic, running_publisher
from events.admin import AnnouncementRequested
from events.catalog import ADMIN_EVENTS, BROADCAST_EVENTS, all_topics
from infra.endpoints import Endpoints
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics

pytestmark = pytest.mark.slow

OWNER = 4_100_001
FIRST_USER = 4_200_001
USERS = 1_000
BLOCKED = frozenset(range(FIRST_USER + 3, FIRST_USER + USERS, 97))
FLOODED = FIRST_USER + 500
"""Its first send is answered 429 (retry_after 1)."""
KILL_AFTER = 300
"""Recipients sent to before the broadcaster is killed with -9."""
TELEGRAM_LIMIT = 30
STARTUP = 300.0
"""Seconds a process may take to start on a loaded machine (not a figure: a bound)."""


@pytest_asyncio.fixture(loop_scope="session")
async def prefix(stack: Endpoints) -> str:
    prefix = f"bc{uuid.uuid4().hex[:8]}."
    await ensure_topics(stack.kafka_bootstrap, list(all_topics()), name_prefix=prefix)
    return prefix


@pytest_asyncio.fixture(loop_scope="session")
async def publisher(
    stack: Endpoints, broker_profile: BrokerProfile, prefix: str
) -> AsyncIterator[EventPublisher]:
    async with running_publisher(stack.kafka_bootstrap, broker_profile, prefix) as out:
        yield out


def _services(
    stack: Endpoints,
    prefix: str,
    telegram: TelegramEmulator,
    claude: ClaudeEmulator,
    logs: Path,
) -> dict[str, Service]:
    schema = "t_" + prefix.rstrip(".")
    env = worker_env(
        stack,
        prefix,
        telegram,
        claude,
        PRIVILEGED_USER_IDS=str(OWNER),
        READ_SCHEMA=schema,
        REDIS_KEY_PREFIX=f"{schema}:",
    )
    return {n: Service(n, env, logs) for n in ("projector", "gateway", "broadcaster")}


def _preview(telegram: TelegramEmulator) -> Any:
    shown = [m for m in telegram.bot_messages(OWNER) if "reply_markup" in m.json]
    return shown[-1] if shown else None


def _press(telegram: TelegramEmulator, message: Any, label: str) -> None:
    rows = message.json["reply_markup"]["inline_keyboard"]
    button = next(b for row in rows for b in row if label in b["text"])
    telegram.inject_update(
        {
            "callback_query": {
                "id": f"cb-{uuid.uuid4().hex[:6]}",
                "from": {"id": OWNER, "is_bot": False, "first_name": "Owner"},
                "chat_instance": "ci",
                "message": message.json,
                "data": button["callback_data"],
            }
        }
    )


def _report(telegram: TelegramEmulator) -> str | None:
    found = [m.text for m in telegram.bot_messages(OWNER) if "finished" in (m.text or "")]
    return found[-1] if found else None


async def test_a_broadcast_to_1000_users_survives_a_kill_9_without_a_duplicate(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    prefix: str,
    publisher: EventPublisher,
    telegram_emulator: TelegramEmulator,
    claude_emulator: ClaudeEmulator,
    tmp_path: Path,
) -> None:
    """/announce to every known user, previewed and sent by the owner's button: 1,000
    recipients (some blocked the bot, one answered 429), the broadcaster killed with -9
    after 300 sends and started again. Nobody gets the message twice, every recipient ends
    sent, failed or blocked, Telegram never sees more than 30 sends in a second, and the
    owner's report counts what the log and Telegram saw."""
    telegram = telegram_emulator
    users = list(range(FIRST_USER, FIRST_USER + USERS))
    telegram.add_private_chat(OWNER)
    for uid in users:
        telegram.add_private_chat(uid)
    for uid in BLOCKED:
        telegram.block_chat(uid)
    telegram.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=FLOODED)
    services = _services(stack, prefix, telegram, claude_emulator, tmp_path)
    schema = services["gateway"].env["READ_SCHEMA"]
    for service in services.values():
        service.start()
    try:
        await register_users(publisher, users)
        await eventually(lambda: _known(stack, schema), STARTUP, interval=0.5)
        await eventually(lambda: telegram.calls("getUpdates"), STARTUP, interval=0.2)

        telegram.send_text(OWNER, "/announce Big news: *v2* is out 🎉", user_id=OWNER)
        preview = await eventually(lambda: _preview(telegram), STARTUP, interval=0.1)
        assert preview.text == "Big news: *v2* is out 🎉"
        assert "every known user" in telegram.bot_messages(OWNER)[-2].text
        _press(telegram, preview, "Send")

        recipients = set(users)
        sent_to = lambda: sum(telegram.sends_per_chat()[u] for u in recipients)  # noqa: E731
        await eventually(lambda: sent_to() >= KILL_AFTER, STARTUP, interval=0.05)
        services["broadcaster"].kill9()
        at_kill = sent_to()
        assert at_kill < USERS - len(BLOCKED)
        services["broadcaster"].start()

        report = await eventually(lambda: _report(telegram), STARTUP + 120, interval=0.2)
    finally:
        await stop_processes(s.proc for s in services.values() if s.proc is not None)

    sends = telegram.sends_per_chat()
    assert max(sends[u] for u in users) == 1, "a recipient got the announcement twice"
    assert all(sends[u] == 0 for u in BLOCKED)
    assert most_in_one_second(send_times(telegram)) <= TELEGRAM_LIMIT

    requests = await read_topic(stack.kafka_bootstrap, broker_profile, ADMIN_EVENTS, prefix)
    aid = next(r.announcement_id for r in requests if isinstance(r, AnnouncementRequested))
    log = outcomes_of(
        await read_topic(stack.kafka_bootstrap, broker_profile, BROADCAST_EVENTS, prefix), aid
    )
    assert set(log.outcome) == set(users), "every recipient ends sent, failed or blocked"
    assert not log.repeated
    assert {u for u, o in log.outcome.items() if o == "blocked"} == BLOCKED
    assert log.outcome[FLOODED] == "sent"
    sent = {u for u, o in log.outcome.items() if o == "sent"}
    delivered = {u for u in users if sends[u]}
    assert sent <= delivered
    assert delivered - sent <= log.unknown, "a delivery the log does not account for"
    assert len(log.unknown) <= policy.IN_FLIGHT
    failed = sum(o == "failed" for o in log.outcome.values())
    assert len(log.finished) == 1
    finished = log.finished[0]
    assert (finished.sent, finished.failed, finished.blocked) == (len(sent), failed, len(BLOCKED))
    numbers = re.search(r"sent (\d+), failed (\d+), blocked (\d+)", report)
    assert numbers is not None, report
    assert tuple(map(int, numbers.groups())) == (len(sent), failed, len(BLOCKED))
    assert len(services["broadcaster"].pids) == 2
    times = sorted(
        c.at for c in telegram.calls("sendMessage") if int(c.params["chat_id"]) in set(users)
    )
    print(
        f"broadcast: {len(users)} recipients, {len(sent)} sent, {failed} failed "
        f"({len(log.unknown)} outcome unknown), {len(BLOCKED)} blocked; killed after {at_kill} "
        f"sends; most sendMessage calls in one second {most_in_one_second(send_times(telegram))}; "
        f"first to last recipient send {times[-1] - times[0]:.1f} s"
    )


async def _known(stack: Endpoints, schema: str) -> bool:
    return await known_users(stack.database_url, schema) >= USERS

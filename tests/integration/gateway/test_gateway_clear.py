"""/clear through the gateway against the Telegram emulator: who may delete topics, the
Yes / Cancel confirmation only the requester can answer, and the thread told its topic is
gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from devkit.emulators.telegram import ChatMessage, TelegramEmulator
from devkit.harness.gateway import WEBHOOK_SECRET, GatewayFactory, TopicReader, polling
from events.catalog import THREAD_INBOX
from events.keys import thread_key
from events.thread import NewConversationRequested
from infra.endpoints import Endpoints
from infra.migrations import migrate
from infra.postgres import create_pool, quote_schema
from infra.projector.views import ReadModelViews
from infra.settings import Secret, Settings

GROUP = -1007701
ADMIN = 7701
MEMBER = 7702
OWNER = 7703  # a privileged user, not an administrator of the group
PRIVATE = 7704


@pytest.fixture
def gateway_settings(telegram_emulator: TelegramEmulator) -> Settings:
    return Settings(
        telegram_bot_token=Secret(telegram_emulator.token),
        telegram_api_url=telegram_emulator.base_url,
        telegram_webhook_secret=Secret(WEBHOOK_SECRET),
        privileged_user_ids=frozenset({OWNER}),
    )


class KnownTopics:
    """Forum topics as the bot knows them: created in the Telegram emulator and recorded in
    the real threads read model (the row the projector writes when a topic's first message
    opens its thread), read back by ``/clear`` through ``ReadModelViews.chat_topics``."""

    def __init__(self, emulator: TelegramEmulator, views: ReadModelViews, schema: str) -> None:
        self.emulator = emulator
        self.views = views
        self.schema = schema

    async def create(self, chat_id: int, name: str, user: int) -> int:
        created = self.emulator.create_topic(chat_id, name, user_id=user)
        topic = int(created["message"]["message_thread_id"])
        async with self.views.pool.acquire() as conn:
            await conn.execute(
                f"INSERT INTO {quote_schema(self.schema)}.threads (thread_key, chat_id,"
                " message_thread_id, chat_type, is_forum, opened_by_user_id, opened_at)"
                " VALUES ($1, $2, $3, $4, true, $5, $6)",
                thread_key(chat_id, topic),
                chat_id,
                topic,
                "private" if chat_id > 0 else "supergroup",
                user,
                datetime.now(UTC),
            )
        return topic

    async def chat_topics(self, chat_id: int) -> list[int]:
        return await self.views.chat_topics(chat_id)


@pytest_asyncio.fixture(loop_scope="session")
async def known(
    stack: Endpoints, pg_schema: str, telegram_emulator: TelegramEmulator
) -> AsyncIterator[KnownTopics]:
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, pg_schema)
        await conn.execute(f"TRUNCATE {quote_schema(pg_schema)}.threads")
    finally:
        await conn.close()
    pool = await create_pool(stack.database_url, min_size=1, max_size=2)
    try:
        yield KnownTopics(
            telegram_emulator, ReadModelViews(pool, None, schema=pg_schema), pg_schema
        )
    finally:
        await pool.close()


def _with_buttons(emulator: TelegramEmulator, chat_id: int) -> list[ChatMessage]:
    return [m for m in emulator.bot_messages(chat_id) if m.json.get("reply_markup")]


def _texts(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text or "" for m in emulator.bot_messages(chat_id)]


def _answers(emulator: TelegramEmulator) -> list[dict[str, Any]]:
    return [c.params for c in emulator.calls("answerCallbackQuery")]


def _ended(records: list[Any]) -> list[NewConversationRequested]:
    return [r for r in records if isinstance(r, NewConversationRequested)]


async def test_an_admin_deletes_the_current_topic_after_confirming_it(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    topics: TopicReader,
    known: KnownTopics,
) -> None:
    """In a topic, /clear asks "Delete this topic?"; a member's press is refused with an
    alert and deletes nothing; the admin's Yes deletes the topic and ends its thread (and
    only its thread: the other topic stays)."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_group(GROUP, forum=True, admins=(ADMIN,))
    doomed = await known.create(GROUP, "Doomed", ADMIN)
    kept = await known.create(GROUP, "Kept", ADMIN)
    async with open_test_gateway(chat_topics=known) as gw, polling(gw):
        telegram_emulator.send_command(GROUP, "clear", user_id=ADMIN, thread_id=doomed)
        await telegram_emulator.wait_until(
            lambda: bool(_with_buttons(telegram_emulator, GROUP)), 20
        )
        [question] = _with_buttons(telegram_emulator, GROUP)
        assert question.thread_id == doomed
        assert "Delete this topic" in (question.text or "")
        telegram_emulator.press_button(GROUP, question.message_id, "Yes", user_id=MEMBER)
        await telegram_emulator.wait_until(lambda: len(_answers(telegram_emulator)) == 1, 20)
        assert _answers(telegram_emulator)[0].get("show_alert") in (True, "true")
        assert doomed in telegram_emulator.topics(GROUP)
        telegram_emulator.press_button(GROUP, question.message_id, "Yes", user_id=ADMIN)
        await telegram_emulator.wait_until(
            lambda: doomed not in telegram_emulator.topics(GROUP), 20
        )
        [ended] = _ended(await topics.read(THREAD_INBOX, count=3, settle=1.0))
    assert kept in telegram_emulator.topics(GROUP)
    assert ended.key == f"{GROUP}:{doomed}"
    assert (ended.topic_deleted, ended.by_admin, ended.user_id) == (True, True, ADMIN)
    assert "Topics deleted: 1" in str(_answers(telegram_emulator)[-1].get("text"))


async def test_a_member_who_is_not_an_admin_is_refused_in_a_group(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    topics: TopicReader,
    known: KnownTopics,
) -> None:
    """A plain member's /clear is refused outright: no question, nothing deleted, nothing
    written."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_group(GROUP, forum=True, admins=(ADMIN,))
    topic = await known.create(GROUP, "Ours", MEMBER)
    async with open_test_gateway(chat_topics=known) as gw, polling(gw):
        telegram_emulator.send_command(GROUP, "clear", user_id=MEMBER, thread_id=topic)
        telegram_emulator.send_command(GROUP, "clear", user_id=MEMBER)
        await telegram_emulator.wait_until(lambda: len(_texts(telegram_emulator, GROUP)) == 2, 20)
        written = await topics.read(THREAD_INBOX, count=1, settle=1.0)
    assert all("administrators" in text for text in _texts(telegram_emulator, GROUP))
    assert not _with_buttons(telegram_emulator, GROUP)
    assert topic in telegram_emulator.topics(GROUP)
    assert not _ended(written)


async def test_outside_a_topic_a_privileged_user_deletes_every_topic_after_a_cancel(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    topics: TopicReader,
    known: KnownTopics,
) -> None:
    """From the General view, /clear names every topic ("all 2 topics"); Cancel deletes
    nothing; asked again, Yes deletes both and ends both threads. A privileged user who is
    no chat admin may do it."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_group(GROUP, forum=True, admins=(ADMIN,))
    first = await known.create(GROUP, "One", ADMIN)
    second = await known.create(GROUP, "Two", MEMBER)
    async with open_test_gateway(chat_topics=known) as gw, polling(gw):
        telegram_emulator.send_command(GROUP, "clear", user_id=OWNER)
        await telegram_emulator.wait_until(
            lambda: bool(_with_buttons(telegram_emulator, GROUP)), 20
        )
        [question] = _with_buttons(telegram_emulator, GROUP)
        assert "Delete all 2 topics" in (question.text or "")
        telegram_emulator.press_button(GROUP, question.message_id, "Cancel", user_id=OWNER)
        await telegram_emulator.wait_until(
            lambda: (
                "Cancelled" in (telegram_emulator.chat(GROUP).find(question.message_id).text or "")
            ),  # type: ignore[union-attr]
            20,
        )
        assert set(telegram_emulator.topics(GROUP)) == {first, second}
        telegram_emulator.send_command(GROUP, "clear", user_id=OWNER)
        await telegram_emulator.wait_until(
            lambda: len(_with_buttons(telegram_emulator, GROUP)) == 2, 20
        )
        again = _with_buttons(telegram_emulator, GROUP)[-1]
        telegram_emulator.press_button(GROUP, again.message_id, "Yes", user_id=OWNER)
        await telegram_emulator.wait_until(lambda: not telegram_emulator.topics(GROUP), 20)
        ended = _ended(await topics.read(THREAD_INBOX, count=4, settle=1.0))
    assert sorted(r.key for r in ended) == sorted([f"{GROUP}:{first}", f"{GROUP}:{second}"])
    assert all(r.topic_deleted for r in ended)
    assert "Topics deleted: 2" in (telegram_emulator.chat(GROUP).find(again.message_id).text or "")  # type: ignore[union-attr]


async def test_in_a_private_chat_the_user_deletes_a_topic(
    open_test_gateway: GatewayFactory,
    telegram_emulator: TelegramEmulator,
    topics: TopicReader,
    known: KnownTopics,
) -> None:
    """A private chat in topics mode belongs to its user: /clear there needs no admin."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_private_chat(PRIVATE, topics=True)
    topic = await known.create(PRIVATE, "Mine", PRIVATE)
    async with open_test_gateway(chat_topics=known) as gw, polling(gw):
        telegram_emulator.send_command(PRIVATE, "clear", user_id=PRIVATE, thread_id=topic)
        await telegram_emulator.wait_until(
            lambda: bool(_with_buttons(telegram_emulator, PRIVATE)), 20
        )
        [question] = _with_buttons(telegram_emulator, PRIVATE)
        telegram_emulator.press_button(PRIVATE, question.message_id, "Yes", user_id=PRIVATE)
        [ended] = _ended(await topics.read(THREAD_INBOX, count=2, settle=1.0))
    assert topic not in telegram_emulator.topics(PRIVATE)
    assert (ended.key, ended.topic_deleted, ended.by_admin) == (f"{PRIVATE}:{topic}", True, False)

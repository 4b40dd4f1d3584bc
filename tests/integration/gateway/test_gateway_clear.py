"""/clear through the gateway against the Telegram emulator: who may delete topics, the
Yes / Cancel confirmation only the requester can answer, and the thread told its topic is
gone."""

from __future__ import annotations

from typing import Any

import pytest

from devkit.emulators.telegram import ChatMessage, TelegramEmulator
from devkit.harness.gateway import WEBHOOK_SECRET, GatewayFactory, TopicReader, polling
from events.catalog import THREAD_INBOX
from events.thread import NewConversationRequested
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
    """The threads read model's topics of a chat (the port ``/clear`` reads), as a fake
    of what the projector would hold."""

    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emulator = emulator

    async def chat_topics(self, chat_id: int) -> list[int]:
        return sorted(self.emulator.topics(chat_id))


def _with_buttons(emulator: TelegramEmulator, chat_id: int) -> list[ChatMessage]:
    return [m for m in emulator.bot_messages(chat_id) if m.json.get("reply_markup")]


def _texts(emulator: TelegramEmulator, chat_id: int) -> list[str]:
    return [m.text or "" for m in emulator.bot_messages(chat_id)]


def _answers(emulator: TelegramEmulator) -> list[dict[str, Any]]:
    return [c.params for c in emulator.calls("answerCallbackQuery")]


def _ended(records: list[Any]) -> list[NewConversationRequested]:
    return [r for r in records if isinstance(r, NewConversationRequested)]


async def _topic(emulator: TelegramEmulator, chat_id: int, name: str, user: int) -> int:
    return int(emulator.create_topic(chat_id, name, user_id=user)["message"]["message_thread_id"])


async def test_an_admin_deletes_the_current_topic_after_confirming_it(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """In a topic, /clear asks "Delete this topic?"; a member's press is refused with an
    alert and deletes nothing; the admin's Yes deletes the topic and ends its thread (and
    only its thread: the other topic stays)."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_group(GROUP, forum=True, admins=(ADMIN,))
    doomed = await _topic(telegram_emulator, GROUP, "Doomed", ADMIN)
    kept = await _topic(telegram_emulator, GROUP, "Kept", ADMIN)
    async with open_test_gateway(chat_topics=KnownTopics(telegram_emulator)) as gw, polling(gw):
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
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """A plain member's /clear is refused outright: no question, nothing deleted, nothing
    written."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_group(GROUP, forum=True, admins=(ADMIN,))
    topic = await _topic(telegram_emulator, GROUP, "Ours", MEMBER)
    async with open_test_gateway(chat_topics=KnownTopics(telegram_emulator)) as gw, polling(gw):
        telegram_emulator.send_command(GROUP, "clear", user_id=MEMBER, thread_id=topic)
        telegram_emulator.send_command(GROUP, "clear", user_id=MEMBER)
        await telegram_emulator.wait_until(lambda: len(_texts(telegram_emulator, GROUP)) == 2, 20)
        written = await topics.read(THREAD_INBOX, count=1, settle=1.0)
    assert all("administrators" in text for text in _texts(telegram_emulator, GROUP))
    assert not _with_buttons(telegram_emulator, GROUP)
    assert topic in telegram_emulator.topics(GROUP)
    assert not _ended(written)


async def test_outside_a_topic_a_privileged_user_deletes_every_topic_after_a_cancel(
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """From the General view, /clear names every topic ("all 2 topics"); Cancel deletes
    nothing; asked again, Yes deletes both and ends both threads. A privileged user who is
    no chat admin may do it."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_group(GROUP, forum=True, admins=(ADMIN,))
    first = await _topic(telegram_emulator, GROUP, "One", ADMIN)
    second = await _topic(telegram_emulator, GROUP, "Two", MEMBER)
    async with open_test_gateway(chat_topics=KnownTopics(telegram_emulator)) as gw, polling(gw):
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
    open_test_gateway: GatewayFactory, telegram_emulator: TelegramEmulator, topics: TopicReader
) -> None:
    """A private chat in topics mode belongs to its user: /clear there needs no admin."""
    telegram_emulator.configure_flood(enabled=False)
    telegram_emulator.add_private_chat(PRIVATE, topics=True)
    topic = await _topic(telegram_emulator, PRIVATE, "Mine", PRIVATE)
    async with open_test_gateway(chat_topics=KnownTopics(telegram_emulator)) as gw, polling(gw):
        telegram_emulator.send_command(PRIVATE, "clear", user_id=PRIVATE, thread_id=topic)
        await telegram_emulator.wait_until(
            lambda: bool(_with_buttons(telegram_emulator, PRIVATE)), 20
        )
        [question] = _with_buttons(telegram_emulator, PRIVATE)
        telegram_emulator.press_button(PRIVATE, question.message_id, "Yes", user_id=PRIVATE)
        [ended] = _ended(await topics.read(THREAD_INBOX, count=2, settle=1.0))
    assert topic not in telegram_emulator.topics(PRIVATE)
    assert (ended.key, ended.topic_deleted, ended.by_admin) == (f"{PRIVATE}:{topic}", True, False)

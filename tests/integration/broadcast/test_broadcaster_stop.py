"""The broadcaster's Sender on the shared broker and the Telegram emulator: ``/announce
stop`` (the admin record folded in while it sends) ends the broadcast early."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot

from actors.broadcast import buttons, policy
from actors.broadcast.book import BroadcastBook
from actors.broadcast.pacing import SendWindow
from devkit.emulators.telegram import TelegramEmulator
from events.admin import AnnouncementConfirmed, AnnouncementRequested, AnnouncementStopRequested
from events.broadcast import BroadcastFinished
from events.catalog import ADMIN_EVENTS, BROADCAST_EVENTS
from events.envelope import new_envelope
from events.ids import new_id
from infra.broadcast.sender import Sender
from infra.endpoints import Endpoints
from infra.kafka.clients import make_producer
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher
from infra.kafka.topic_admin import ensure_topics

OWNER = 6_300_001
USERS = list(range(6_300_100, 6_300_140))


@dataclass(slots=True)
class _StopOnceSent(SendWindow):
    """The send window, calling ``then`` at the first send that starts once ``sent()`` is
    true (the test folds the stop in there, in the sender's own flow: no polling race,
    whatever the machine's load)."""

    sent: Callable[[], bool] = lambda: False
    then: Callable[[], None] = lambda: None
    done: bool = False

    def take(self, now: float) -> None:
        SendWindow.take(self, now)
        if not self.done and self.sent():
            self.done = True
            self.then()


async def test_a_stop_while_sending_sends_nothing_more_and_reports_stopped(
    stack: Endpoints,
    broker_profile: BrokerProfile,
    topic_prefix: str,
    telegram_emulator: TelegramEmulator,
    telegram_bot: Bot,
) -> None:
    """The start message to the author carries a Stop button (its press is the stop);
    five sends in, the author's stop is folded in: the in-flight sends finish, nobody
    else gets the announcement, broadcast.finished says stopped with the not-sent count,
    the owner's report says stopped, and running it again sends nothing."""
    telegram_emulator.configure_flood(enabled=False)
    for user in (OWNER, *USERS):
        telegram_emulator.add_private_chat(user)
    report = await ensure_topics(
        stack.kafka_bootstrap, (ADMIN_EVENTS, BROADCAST_EVENTS), name_prefix=topic_prefix
    )
    assert report.ok, report.mismatches
    producer = make_producer(stack.kafka_bootstrap, broker_profile)
    await producer.start()
    aid = new_id()
    book = BroadcastBook()
    env = {"key": "global", "producer": "test"}
    book.apply_all(
        [
            AnnouncementRequested(
                **new_envelope(**env), announcement_id=aid, text="Maintenance tonight",
                admin_user_id=OWNER, recipients=tuple(USERS),
            ),
            AnnouncementConfirmed(**new_envelope(**env), announcement_id=aid, admin_user_id=OWNER),
        ]
    )  # fmt: skip
    publisher = EventPublisher(producer, topic_prefix=topic_prefix)

    def announced() -> int:
        return sum(
            1
            for c in telegram_emulator.calls("sendMessage")
            if c.params.get("text") == "Maintenance tonight"
        )

    stop = AnnouncementStopRequested(**new_envelope(**env), admin_user_id=OWNER)
    window = _StopOnceSent(
        policy.SENDS_PER_SECOND, sent=lambda: announced() >= 5, then=lambda: book.apply(stop)
    )
    sender = Sender(telegram_bot, publisher, book, lambda: _nobody(), window=window, in_flight=2)
    ann = book.announcements[aid]

    try:
        # the stop is folded in five sends in (see _StopOnceSent), as the broadcaster's follower
        # folds the admin topic
        await sender.run(ann, asyncio.Event())
        reached = announced()
        assert 5 <= reached <= 5 + 2  # the sends already under way (2 in flight) finish
        assert ann.finished is not None
        finished = ann.finished
        assert isinstance(finished, BroadcastFinished)
        assert finished.stopped
        assert finished.sent == reached
        assert finished.not_sent == len(USERS) - reached
        first = telegram_emulator.bot_messages(OWNER)[0]  # "Broadcast started", with Stop
        [[button]] = first.json["reply_markup"]["inline_keyboard"]
        assert buttons.parse_press(button["callback_data"]) == buttons.Press("stop", OWNER, aid)
        owner = [m.text or "" for m in telegram_emulator.bot_messages(OWNER)]
        assert any(t.startswith("Broadcast stopped") for t in owner), owner
        assert f"not sent {len(USERS) - reached}" in owner[-1]
        await sender.run(ann, asyncio.Event())
        assert announced() == reached
    finally:
        await producer.stop()


async def _nobody() -> list[int]:
    return []

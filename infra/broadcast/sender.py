"""Running one confirmed announcement to the end: list, start, send to each recipient within
the send window, record every intent and outcome, report to the owner.

Crash points (the log is the only state; :mod:`actors.broadcast.book` folds it back):

* before ``broadcast.started``: listed again under a new listing id, then started;
* after a ``delivery_attempted`` and before its outcome: the send may or may not have
  happened. On resume the recipient is recorded ``failed`` with ``outcome_unknown`` and not
  sent again, so nobody gets the announcement twice (at most :data:`policy.IN_FLIGHT`
  recipients per crash);
* after a ``delivery_deferred`` (a 429: nothing was sent): sent again on resume;
* after the last outcome and before ``broadcast.finished``: the report is sent (again) and
  the broadcast finished, so the owner always gets it (maybe twice), recipients never.

The intent is durable (acknowledged by the broker) before ``sendMessage`` is called; the
outcome is written after Telegram answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from actors.broadcast import buttons, policy, texts
from actors.broadcast.book import Announcement, BroadcastBook, BroadcastRecord, chunked
from actors.broadcast.outcomes import judge
from actors.broadcast.pacing import SendWindow
from actors.texts import Language, language_of, say
from events.broadcast import (
    BroadcastFinished,
    BroadcastStarted,
    DeliveryAttempted,
    DeliveryDeferred,
    DeliveryRecorded,
    RecipientsListed,
)
from events.catalog import BROADCAST_EVENTS
from events.envelope import caused_by
from events.ids import new_id
from events.keys import GLOBAL_KEY
from infra.broadcast.telegram import SendAnswer, send_text
from infra.kafka.publisher import EventPublisher

log = logging.getLogger(__name__)

PRODUCER = "broadcaster"
INTERRUPTED = "interrupted: the broadcaster stopped while sending; not sent again"

Recipients = Callable[[], Awaitable[list[int]]]


def _lang(ann: Announcement) -> Language:
    """The author's language when they asked (English for older records)."""
    return language_of(None, ann.request.language)


def _stop_button(ann: Announcement) -> InlineKeyboardMarkup:
    author = ann.request.admin_user_id
    data = buttons.callback_data("stop", author, ann.id)
    label = say(_lang(ann), "broadcast.button_stop")
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)]]
    )


class Sender:
    """Sends announcements of ``book`` (which it keeps up to date with what it records)."""

    def __init__(
        self,
        bot: Bot,
        publisher: EventPublisher,
        book: BroadcastBook,
        known_users: Recipients,
        *,
        window: SendWindow | None = None,
        in_flight: int = policy.IN_FLIGHT,
        sends_per_second: int = policy.SENDS_PER_SECOND,
        progress_every: float = policy.PROGRESS_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._publisher = publisher
        self._book = book
        self._known_users = known_users
        self._window = window or SendWindow(sends_per_second, policy.WINDOW_SECONDS)
        self._in_flight = in_flight
        self._progress_every = progress_every
        self._clock = clock

    async def _record(self, ann: Announcement, record: BroadcastRecord) -> None:
        await self._publisher.publish(BROADCAST_EVENTS, record)
        self._book.apply(record)

    def _envelope(self, ann: Announcement, label: str) -> Any:
        return caused_by(ann.request, producer=PRODUCER, key=GLOBAL_KEY, label=label)

    async def _slot(self, halt: asyncio.Event, *, take: bool = True) -> bool:
        """Wait for the send window (and take a place in it if ``take``); False if ``halt``
        came first."""
        while (delay := self._window.wait(self._clock())) > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await halt.wait()
            if halt.is_set():
                return False
        if halt.is_set():
            return False
        if take:
            self._window.take(self._clock())
        return True

    async def tell_owner(self, ann: Announcement, text: str, *, stoppable: bool = False) -> None:
        """A message to the author (within the window; a failure is logged, not retried
        beyond Telegram's flood waits); ``stoppable``: under a Stop button."""
        markup = _stop_button(ann) if stoppable else None
        for _ in range(policy.MAX_ATTEMPTS):
            await self._slot(asyncio.Event())
            answer = await send_text(self._bot, ann.report_chat, text, reply_markup=markup)
            if answer.answer != "flood":
                if answer.answer != "ok":
                    log.warning(
                        "could not tell the owner about a broadcast",
                        extra={"fields": {"announcement": ann.id, "error": answer.detail}},
                    )
                return
            self._window.pause(self._clock(), min(answer.retry_after, policy.MAX_RETRY_AFTER_S))

    async def run(self, ann: Announcement, halt: asyncio.Event) -> None:
        """Bring ``ann`` as far as possible before ``halt``: to ``broadcast.finished`` (at
        once when its author stopped it: nothing more is sent)."""
        if ann.started is None and not ann.stopped:
            await self._start(ann)
        for user_id in ann.interrupted():
            await self._record(
                ann,
                DeliveryRecorded(
                    **self._envelope(ann, f"outcome:{user_id}"),
                    announcement_id=ann.id,
                    user_id=user_id,
                    outcome="failed",
                    detail=INTERRUPTED,
                    outcome_unknown=True,
                ),
            )
        await self._deliver_all(ann, halt)
        if ann.complete() and not halt.is_set():
            await self._finish(ann)

    async def _start(self, ann: Announcement) -> None:
        listed = ann.request.recipients
        user_ids = list(listed) if listed is not None else await self._known_users()
        listing = new_id()
        chunks = chunked(user_ids, policy.CHUNK_SIZE)
        for n, chunk in enumerate(chunks):
            await self._record(
                ann,
                RecipientsListed(
                    **self._envelope(ann, f"listing:{listing}:{n}"),
                    announcement_id=ann.id,
                    listing_id=listing,
                    chunk=n,
                    user_ids=chunk,
                ),
            )
        await self._record(
            ann,
            BroadcastStarted(
                **self._envelope(ann, "started"),
                announcement_id=ann.id,
                listing_id=listing,
                chunks=len(chunks),
                recipient_count=len(user_ids),
            ),
        )
        log.info(
            "broadcast started",
            extra={"fields": {"announcement": ann.id, "recipients": len(ann.recipients)}},
        )
        await self.tell_owner(ann, texts.started(_lang(ann), len(ann.recipients)), stoppable=True)

    async def _deliver_all(self, ann: Announcement, halt: asyncio.Event) -> None:
        queue = deque(ann.to_send())
        if not queue:
            return

        async def worker() -> None:
            while queue and not halt.is_set() and not ann.stopped:
                await self._deliver(ann, queue.popleft(), halt)

        progress = asyncio.create_task(self._progress(ann))
        try:
            await asyncio.gather(*(worker() for _ in range(self._in_flight)))
        finally:
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress

    async def _progress(self, ann: Announcement) -> None:
        while True:
            await asyncio.sleep(self._progress_every)
            await self.tell_owner(
                ann, texts.progress(_lang(ann), ann.counts(), len(ann.recipients)), stoppable=True
            )

    async def _deliver(self, ann: Announcement, user_id: int, halt: asyncio.Event) -> None:
        attempt = ann.recipients[user_id].attempts + 1
        while not ann.stopped and await self._slot(halt, take=False):
            await self._record(
                ann,
                DeliveryAttempted(
                    **self._envelope(ann, f"attempt:{user_id}:{attempt}"),
                    announcement_id=ann.id,
                    user_id=user_id,
                    attempt=attempt,
                ),
            )
            # the place in the window is taken right before the call, after the intent is
            # durable (not haltable: an intent without its send would be an unknown outcome),
            # so a slow intent write never bunches sends at Telegram
            await self._slot(asyncio.Event())
            answer = await send_text(self._bot, user_id, ann.request.text, ann.request.entities)
            judgement = judge(answer.answer, attempt)
            if judgement.verdict != "retry":
                await self._record(ann, self._outcome(ann, user_id, answer, judgement.verdict))
                return
            wait = min(answer.retry_after, policy.MAX_RETRY_AFTER_S)
            self._window.pause(self._clock(), wait)
            await self._record(
                ann,
                DeliveryDeferred(
                    **self._envelope(ann, f"deferred:{user_id}:{attempt}"),
                    announcement_id=ann.id,
                    user_id=user_id,
                    attempt=attempt,
                    retry_after=wait,
                ),
            )
            attempt += 1

    def _outcome(
        self, ann: Announcement, user_id: int, answer: SendAnswer, verdict: str
    ) -> DeliveryRecorded:
        unknown = answer.answer == "no_answer"
        return DeliveryRecorded(
            **self._envelope(ann, f"outcome:{user_id}"),
            announcement_id=ann.id,
            user_id=user_id,
            outcome="sent"
            if verdict == "sent"
            else "blocked"
            if verdict == "blocked"
            else "failed",
            detail=answer.detail,
            message_id=answer.message_id,
            outcome_unknown=unknown,
        )

    async def _finish(self, ann: Announcement) -> None:
        counts = ann.counts()
        total = len(ann.recipients)
        if ann.stopped:
            await self.tell_owner(ann, texts.stopped_report(_lang(ann), counts, total))
        else:
            await self.tell_owner(ann, texts.report(_lang(ann), counts, total))
        await self._record(
            ann,
            BroadcastFinished(
                **self._envelope(ann, "finished"),
                announcement_id=ann.id,
                sent=counts.sent,
                failed=counts.failed,
                blocked=counts.blocked,
                outcome_unknown=counts.outcome_unknown,
                stopped=ann.stopped,
                not_sent=counts.not_sent,
            ),
        )
        log.info(
            "broadcast finished",
            extra={"fields": {"announcement": ann.id, "sent": counts.sent,
                              "failed": counts.failed, "blocked": counts.blocked}},
        )  # fmt: skip

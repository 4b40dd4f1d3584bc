"""Broadcasts: how an owner's announcement reached its recipients (topic
``bot.broadcast.events``, key ``"global"``, one partition).

The owner's decisions (``admin.announcement_requested`` / ``_confirmed`` / ``_cancelled``)
are on ``bot.admin.events``; the broadcaster records here what it did with a confirmed one,
so a restarted broadcaster resumes from this log:

* ``broadcast.recipients_listed``: the recipients, in chunks, of one listing;
* ``broadcast.started``: the listing the broadcast uses (its chunks are then complete);
* ``broadcast.delivery_attempted``: the intent, durable *before* ``sendMessage`` is called;
* ``broadcast.delivery_deferred``: Telegram answered 429 (nothing was sent; sent again later);
* ``broadcast.delivery_recorded``: the outcome, ``sent``, ``failed`` or ``blocked``;
* ``broadcast.finished``: every recipient has an outcome; the counts.

An attempt with neither a deferral nor an outcome after it (the broadcaster died between the
intent and the outcome) may or may not have reached its recipient: it is recorded as
``failed`` with ``outcome_unknown`` set, never sent again.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

from events.envelope import Envelope, Payload
from events.ids import Id

Outcome: TypeAlias = Literal["sent", "failed", "blocked"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("sent", "failed", "blocked")


class TextEntity(Payload, frozen=True, kw_only=True):
    """A Telegram message entity (offsets and lengths in UTF-16 code units)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None


class RecipientsListed(Envelope, tag="broadcast.recipients_listed", frozen=True, kw_only=True):
    """One chunk of the recipients of one listing (a broadcaster that died while listing
    lists again under a new ``listing_id``; only the listing ``broadcast.started`` names
    counts)."""

    v: Literal[1] = 1
    announcement_id: Id
    listing_id: Id
    chunk: int
    user_ids: tuple[int, ...]


class BroadcastStarted(Envelope, tag="broadcast.started", frozen=True, kw_only=True):
    """The broadcast of a confirmed announcement began, to the recipients of ``listing_id``."""

    v: Literal[1] = 1
    announcement_id: Id
    listing_id: Id
    chunks: int
    recipient_count: int


class DeliveryAttempted(Envelope, tag="broadcast.delivery_attempted", frozen=True, kw_only=True):
    """The broadcaster is about to call ``sendMessage`` for this recipient (attempt n)."""

    v: Literal[1] = 1
    announcement_id: Id
    user_id: int
    attempt: int = 1


class DeliveryDeferred(Envelope, tag="broadcast.delivery_deferred", frozen=True, kw_only=True):
    """Telegram refused the attempt with 429 (nothing sent): it is tried again later."""

    v: Literal[1] = 1
    announcement_id: Id
    user_id: int
    attempt: int
    retry_after: int
    """Seconds Telegram asked to wait (whole seconds, as it answers)."""


class DeliveryRecorded(Envelope, tag="broadcast.delivery_recorded", frozen=True, kw_only=True):
    """The final outcome for one recipient."""

    v: Literal[1] = 1
    announcement_id: Id
    user_id: int
    outcome: Outcome
    detail: str = ""
    """Why it failed or was blocked (Telegram's description), '' when sent."""
    message_id: int | None = None
    outcome_unknown: bool = False
    """The broadcaster died after the intent: maybe delivered, counted failed, not resent."""


class BroadcastFinished(Envelope, tag="broadcast.finished", frozen=True, kw_only=True):
    """Every recipient has an outcome, or the author stopped the broadcast (``stopped``:
    ``not_sent`` recipients were never sent it)."""

    v: Literal[1] = 1
    announcement_id: Id
    sent: int
    failed: int
    blocked: int
    outcome_unknown: int = 0
    """Of ``failed``: attempts interrupted by a crash (maybe delivered, never resent)."""
    stopped: bool = False
    not_sent: int = 0

"""The fold of announcements and broadcasts, and what a broadcaster must do next.

:class:`BroadcastBook` folds ``bot.admin.events`` (the owner's requests and decisions) and
``bot.broadcast.events`` (what the broadcaster did) into one :class:`Announcement` per
announcement id. Applying a record twice changes nothing (records are keyed by what they are
about: a second outcome for a recipient, a second decision, a second start are ignored), so
a fold over an at-least-once log is exact.

Resume decisions (pure, for the broadcaster at start and after each step):

* a confirmed announcement without ``broadcast.started`` is listed (again, under a new
  listing id: chunks of an unfinished listing are ignored) and started;
* a started one's recipients whose last record is ``delivery_attempted`` were being sent to
  when the broadcaster stopped: :meth:`Announcement.interrupted`. Telegram offers no way to
  ask whether that message went out, and sending it again could deliver it twice, so each is
  recorded ``failed`` with ``outcome_unknown`` and never sent again (at most once: a
  recipient gets the announcement once or not at all). At most ``IN_FLIGHT`` recipients can
  be in that state per crash;
* recipients never attempted, or deferred by a 429 (nothing was sent), are sent to next,
  in listing order: :meth:`Announcement.to_send`;
* when every recipient has an outcome, the broadcast finishes with the counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from events.admin import (
    AnnouncementCancelled,
    AnnouncementConfirmed,
    AnnouncementRequested,
    AnnouncementStopRequested,
)
from events.broadcast import (
    BroadcastFinished,
    BroadcastStarted,
    DeliveryAttempted,
    DeliveryDeferred,
    DeliveryRecorded,
    RecipientsListed,
)

Decision: TypeAlias = Literal["awaiting", "confirmed", "cancelled"]
Status: TypeAlias = Literal["pending", "attempted", "deferred", "sent", "failed", "blocked"]
TERMINAL: frozenset[Status] = frozenset({"sent", "failed", "blocked"})


class BroadcastLogCorrupt(ValueError):
    """The broadcast log contradicts itself (a start naming chunks never listed)."""


@dataclass(frozen=True, slots=True)
class Counts:
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    outcome_unknown: int = 0
    """Of ``failed``: interrupted by a crash, maybe delivered."""
    not_sent: int = 0
    """Never sent: the author stopped the broadcast before their turn."""

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked


@dataclass(slots=True)
class Recipient:
    status: Status = "pending"
    attempts: int = 0
    outcome_unknown: bool = False


@dataclass(slots=True)
class Announcement:
    request: AnnouncementRequested
    decision: Decision = "awaiting"
    decided_order: int = 0
    listings: dict[str, dict[int, tuple[int, ...]]] = field(default_factory=dict)
    started: BroadcastStarted | None = None
    recipients: dict[int, Recipient] = field(default_factory=dict)
    """By user id, in listing order (empty until started)."""
    finished: BroadcastFinished | None = None
    stopped: bool = False
    """The author stopped it (``admin.announcement_stop_requested``): nothing more is sent."""

    @property
    def id(self) -> str:
        return self.request.announcement_id

    @property
    def report_chat(self) -> int:
        return self.request.chat_id or self.request.admin_user_id

    @property
    def runnable(self) -> bool:
        return self.decision == "confirmed" and self.finished is None

    def interrupted(self) -> list[int]:
        """Recipients whose send was under way when the broadcaster stopped."""
        return [u for u, r in self.recipients.items() if r.status == "attempted"]

    def to_send(self) -> list[int]:
        """Recipients still to send to, in listing order (never tried, or deferred); none
        once stopped."""
        if self.stopped:
            return []
        return [u for u, r in self.recipients.items() if r.status in ("pending", "deferred")]

    def counts(self) -> Counts:
        sent = failed = blocked = unknown = not_sent = 0
        for r in self.recipients.values():
            if r.status == "sent":
                sent += 1
            elif r.status == "failed":
                failed += 1
                unknown += r.outcome_unknown
            elif r.status == "blocked":
                blocked += 1
            elif r.status != "attempted":
                not_sent += 1
        return Counts(sent, failed, blocked, unknown, not_sent)

    def complete(self) -> bool:
        """Every recipient has an outcome (started), or it was stopped and no send is
        under way (a stop before the start: nobody is listed, nothing sent)."""
        if self.stopped:
            return all(r.status != "attempted" for r in self.recipients.values())
        return self.started is not None and all(
            r.status in TERMINAL for r in self.recipients.values()
        )


AdminRecord: TypeAlias = (
    AnnouncementRequested
    | AnnouncementConfirmed
    | AnnouncementCancelled
    | AnnouncementStopRequested
)
BroadcastRecord: TypeAlias = (
    RecipientsListed
    | BroadcastStarted
    | DeliveryAttempted
    | DeliveryDeferred
    | DeliveryRecorded
    | BroadcastFinished
)


class BroadcastBook:
    """Every announcement by id (see the module docstring)."""

    def __init__(self) -> None:
        self.announcements: dict[str, Announcement] = {}
        self._decisions = 0

    def runnable(self) -> list[Announcement]:
        """Confirmed, unfinished announcements, in the order they were confirmed."""
        found = [a for a in self.announcements.values() if a.runnable]
        return sorted(found, key=lambda a: a.decided_order)

    def apply_all(self, records: Iterable[object]) -> None:
        for record in records:
            self.apply(record)

    def apply(self, record: object) -> None:
        """Fold one record of either topic (other admin records are ignored)."""
        if isinstance(record, AnnouncementRequested):
            self.announcements.setdefault(record.announcement_id, Announcement(record))
        elif isinstance(record, AnnouncementConfirmed | AnnouncementCancelled):
            self._decide(record)
        elif isinstance(record, AnnouncementStopRequested):
            self._stop(record)
        elif isinstance(record, RecipientsListed | BroadcastStarted | BroadcastFinished):
            self._progress(record)
        elif isinstance(record, DeliveryAttempted | DeliveryDeferred | DeliveryRecorded):
            self._delivery(record)

    def _decide(self, record: AnnouncementConfirmed | AnnouncementCancelled) -> None:
        found = self.announcements.get(record.announcement_id)
        if found is None or found.decision != "awaiting":
            return  # unknown, or decided already: the first decision stands
        if record.admin_user_id != found.request.admin_user_id:
            return  # only the author decides
        self._decisions += 1
        found.decided_order = self._decisions
        found.decision = "confirmed" if isinstance(record, AnnouncementConfirmed) else "cancelled"

    def _stop(self, record: AnnouncementStopRequested) -> None:
        """Stop the author's confirmed, unfinished announcements (or the one named)."""
        for found in self.announcements.values():
            if record.announcement_id not in (None, found.id):
                continue
            if found.request.admin_user_id == record.admin_user_id and found.runnable:
                found.stopped = True

    def _progress(self, record: RecipientsListed | BroadcastStarted | BroadcastFinished) -> None:
        found = self.announcements.get(record.announcement_id)
        if found is None:
            return
        if isinstance(record, RecipientsListed):
            found.listings.setdefault(record.listing_id, {})[record.chunk] = record.user_ids
        elif isinstance(record, BroadcastStarted):
            if found.started is None:
                found.started = record
                found.recipients = {u: Recipient() for u in _listed(found, record)}
                found.listings.clear()
        elif found.finished is None:
            found.finished = record

    def _delivery(self, record: DeliveryAttempted | DeliveryDeferred | DeliveryRecorded) -> None:
        found = self.announcements.get(record.announcement_id)
        recipient = None if found is None else found.recipients.get(record.user_id)
        if recipient is None or recipient.status in TERMINAL:
            return
        if isinstance(record, DeliveryAttempted):
            if record.attempt > recipient.attempts:
                recipient.attempts = record.attempt
                recipient.status = "attempted"
        elif isinstance(record, DeliveryDeferred):
            if record.attempt >= recipient.attempts:
                recipient.status = "deferred"
        else:
            recipient.status = record.outcome
            recipient.outcome_unknown = record.outcome_unknown


def _listed(found: Announcement, started: BroadcastStarted) -> list[int]:
    chunks = found.listings.get(started.listing_id, {})
    missing = [c for c in range(started.chunks) if c not in chunks]
    if missing:
        raise BroadcastLogCorrupt(
            f"broadcast {started.announcement_id} started with listing {started.listing_id}, "
            f"whose chunks {missing} are not in the log"
        )
    ids = [u for c in range(started.chunks) for u in chunks[c]]
    return list(dict.fromkeys(ids))


def chunked(user_ids: list[int], size: int) -> list[tuple[int, ...]]:
    """``user_ids`` in chunks of at most ``size`` (one empty chunk for no ids)."""
    if not user_ids:
        return [()]
    return [tuple(user_ids[i : i + size]) for i in range(0, len(user_ids), size)]

"""The broadcast fold and its resume decisions: who is sent to after a crash, and who never
again."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.broadcast import policy
from actors.broadcast.book import BroadcastBook, BroadcastLogCorrupt, chunked
from actors.broadcast.outcomes import judge
from events.admin import AnnouncementCancelled, AnnouncementConfirmed, AnnouncementRequested
from events.broadcast import (
    BroadcastStarted,
    DeliveryAttempted,
    DeliveryDeferred,
    DeliveryRecorded,
    RecipientsListed,
)
from events.envelope import new_envelope
from events.ids import new_id

AUTHOR = 7


def _env() -> Any:
    return new_envelope(key="global", producer="test")


def requested(aid: str, recipients: tuple[int, ...] | None = None) -> AnnouncementRequested:
    return AnnouncementRequested(
        **_env(), announcement_id=aid, text="hi", admin_user_id=AUTHOR, recipients=recipients
    )


def confirmed(aid: str, by: int = AUTHOR) -> AnnouncementConfirmed:
    return AnnouncementConfirmed(**_env(), announcement_id=aid, admin_user_id=by)


def started(aid: str, users: list[int], listing: str | None = None) -> list[Any]:
    listing = listing or new_id()
    chunks = chunked(users, 2)
    return [
        *(
            RecipientsListed(**_env(), announcement_id=aid, listing_id=listing, chunk=n,
                             user_ids=c)
            for n, c in enumerate(chunks)
        ),
        BroadcastStarted(**_env(), announcement_id=aid, listing_id=listing, chunks=len(chunks),
                         recipient_count=len(users)),
    ]  # fmt: skip


def attempted(aid: str, user: int, attempt: int = 1) -> DeliveryAttempted:
    return DeliveryAttempted(**_env(), announcement_id=aid, user_id=user, attempt=attempt)


def deferred(aid: str, user: int, attempt: int = 1) -> DeliveryDeferred:
    return DeliveryDeferred(
        **_env(), announcement_id=aid, user_id=user, attempt=attempt, retry_after=1
    )


def recorded(aid: str, user: int, outcome: Any = "sent") -> DeliveryRecorded:
    return DeliveryRecorded(**_env(), announcement_id=aid, user_id=user, outcome=outcome)


def test_resume_after_a_crash_mid_broadcast() -> None:
    """An attempt without an outcome is interrupted (never resent); never-tried and 429-
    deferred recipients are sent next, in listing order; finished ones are left alone."""
    aid, book = new_id(), BroadcastBook()
    book.apply_all([requested(aid), confirmed(aid), *started(aid, [1, 2, 3, 4, 5])])
    book.apply_all([attempted(aid, 1), recorded(aid, 1), attempted(aid, 2), deferred(aid, 2),
                    attempted(aid, 3), attempted(aid, 4), recorded(aid, 4, "blocked")])  # fmt: skip
    ann = book.announcements[aid]
    assert ann.interrupted() == [3]
    assert ann.to_send() == [2, 5]
    assert ann.recipients[2].attempts == 1
    assert book.runnable() == [ann]
    assert not ann.complete()


def test_a_repeated_log_folds_to_the_same_state() -> None:
    """Every record applied twice (an at-least-once log) changes nothing."""
    aid = new_id()
    records = [requested(aid), confirmed(aid), *started(aid, [1, 2, 3]), attempted(aid, 1),
               recorded(aid, 1), attempted(aid, 2), recorded(aid, 2, "failed"),
               attempted(aid, 3), recorded(aid, 3, "blocked")]  # fmt: skip
    once, twice = BroadcastBook(), BroadcastBook()
    once.apply_all(records)
    for record in records:
        twice.apply(record)
        twice.apply(record)
    a, b = once.announcements[aid], twice.announcements[aid]
    assert a.counts() == b.counts()
    assert (a.complete(), b.complete()) == (True, True)
    assert (a.counts().sent, a.counts().failed, a.counts().blocked) == (1, 1, 1)


def test_only_the_authors_first_decision_counts() -> None:
    """Another admin's Send is ignored; after the author's Cancel a Send changes nothing."""
    aid, book = new_id(), BroadcastBook()
    book.apply_all([requested(aid), confirmed(aid, by=AUTHOR + 1)])
    assert book.announcements[aid].decision == "awaiting"
    book.apply(AnnouncementCancelled(**_env(), announcement_id=aid, admin_user_id=AUTHOR))
    book.apply(confirmed(aid))
    assert book.announcements[aid].decision == "cancelled"
    assert book.runnable() == []


def test_an_abandoned_listing_is_ignored() -> None:
    """Chunks of a listing a crash interrupted do not count; the started listing does."""
    aid, book = new_id(), BroadcastBook()
    book.apply_all([requested(aid), confirmed(aid)])
    book.apply(RecipientsListed(**_env(), announcement_id=aid, listing_id=new_id(), chunk=0,
                                user_ids=(9, 10)))  # fmt: skip
    book.apply_all(started(aid, [1, 2, 3]))
    assert list(book.announcements[aid].recipients) == [1, 2, 3]


def test_a_start_without_its_chunks_is_corrupt() -> None:
    """A start naming chunks the log lacks is refused loudly (nobody is guessed)."""
    aid, book = new_id(), BroadcastBook()
    book.apply_all([requested(aid), confirmed(aid)])
    with pytest.raises(BroadcastLogCorrupt):
        book.apply(started(aid, [1, 2, 3])[-1])


def test_judging_telegram_answers() -> None:
    """403 is blocked, 429 retried up to the cap, no answer is failed with the outcome
    unknown (never retried)."""
    assert judge("ok", 1).verdict == "sent"
    assert judge("forbidden", 1).verdict == "blocked"
    assert judge("flood", 1).verdict == "retry"
    assert judge("flood", policy.MAX_ATTEMPTS).verdict == "failed"
    assert judge("no_answer", 1).outcome_unknown
    assert judge("refused", 1).verdict == "failed"


# One recipient's life: steps of a send loop, each a list of records written in order.
_LIVES = st.lists(
    st.sampled_from(["sent", "blocked", "failed", "deferred", "crash"]), min_size=0, max_size=4
)


@given(lives=st.lists(_LIVES, min_size=1, max_size=12), cut=st.floats(0, 1))
def test_no_recipient_is_sent_to_twice_whatever_the_crash_point(
    lives: list[list[str]], cut: float
) -> None:
    """For any log cut at any point (a kill -9), the resume decision sends only to
    recipients whose every attempt is known to have sent nothing, and leaves every
    recipient either settled, interrupted (to be marked failed) or to be sent."""
    aid = new_id()
    users = list(range(1, len(lives) + 1))
    log: list[Any] = [requested(aid), confirmed(aid), *started(aid, users)]
    for user, life in zip(users, lives, strict=True):
        for n, step in enumerate(life, start=1):
            log.append(attempted(aid, user, n))
            if step == "deferred":
                log.append(deferred(aid, user, n))
                continue
            if step != "crash":
                log.append(recorded(aid, user, step))
            break
    prefix = log[: round(len(log) * cut)]
    book = BroadcastBook()
    book.apply_all(prefix)
    ann = book.announcements.get(aid)
    if ann is None or ann.started is None:
        return
    maybe_sent = {r.user_id for r in prefix if isinstance(r, DeliveryAttempted)} - {
        r.user_id for r in prefix if isinstance(r, DeliveryDeferred) and _last_of(prefix, r)
    }
    to_send, interrupted = set(ann.to_send()), set(ann.interrupted())
    settled = {u for u, r in ann.recipients.items() if r.status in ("sent", "failed", "blocked")}
    assert not to_send & maybe_sent
    assert to_send | interrupted | settled == set(users)
    assert len(to_send) + len(interrupted) + len(settled) == len(users)


def _last_of(log: list[Any], record: DeliveryDeferred) -> bool:
    """``record`` is the user's last delivery record in ``log`` (nothing tried after it)."""
    later = [r for r in log if getattr(r, "user_id", None) == record.user_id]
    return later[-1] is record

"""What the owner reads about an announcement, in their language (the ``broadcast.*`` keys
of :mod:`actors.texts`)."""

from __future__ import annotations

from actors.broadcast.book import Counts
from actors.texts import Language, say


def preview_header(lang: Language, recipients: tuple[int, ...] | None) -> str:
    if recipients is None:
        return say(lang, "broadcast.preview_all")
    return say(lang, "broadcast.preview_listed", count=len(recipients))


def started(lang: Language, total: int) -> str:
    return say(lang, "broadcast.started", total=total)


def progress(lang: Language, counts: Counts, total: int) -> str:
    return say(
        lang,
        "broadcast.progress",
        done=counts.done,
        total=total,
        sent=counts.sent,
        failed=counts.failed,
        blocked=counts.blocked,
    )


def report(lang: Language, counts: Counts, total: int) -> str:
    text = say(
        lang,
        "broadcast.finished",
        total=total,
        sent=counts.sent,
        failed=counts.failed,
        blocked=counts.blocked,
    )
    return _with_unknown(lang, counts, text)


def stopped_report(lang: Language, counts: Counts, total: int) -> str:
    """The report of a broadcast its author stopped: what went out, what never did."""
    text = say(
        lang,
        "broadcast.stopped_report",
        total=total,
        sent=counts.sent,
        failed=counts.failed,
        blocked=counts.blocked,
        not_sent=counts.not_sent,
    )
    return _with_unknown(lang, counts, text)


def _with_unknown(lang: Language, counts: Counts, text: str) -> str:
    """``text`` and, when a crash left some outcomes unknown, the note saying how many."""
    if counts.outcome_unknown:
        text += say(lang, "broadcast.unknown_note", unknown=counts.outcome_unknown)
    return text

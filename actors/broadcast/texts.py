"""What the owner reads about an announcement (English; kept in one module so a language
catalog can take them over whole)."""

from __future__ import annotations

from typing import Final

from actors.broadcast.book import Counts

BUTTON_SEND: Final = "✅ Send"
BUTTON_CANCEL: Final = "✖️ Cancel"
ONLY_AUTHOR: Final = "Only the author of this announcement can send or cancel it."
QUEUED: Final = "Sending. I'll report here how it went."
CANCELLED: Final = "Announcement cancelled: nothing was sent."
CANCELLED_SHORT: Final = "Cancelled"
UNREADABLE_BUTTON: Final = "This button is no longer valid."


def preview_header(recipients: tuple[int, ...] | None) -> str:
    who = (
        "every known user"
        if recipients is None
        else f"{len(recipients)} listed user{'' if len(recipients) == 1 else 's'}"
    )
    return (
        f"Preview of the announcement to {who}: the next message is exactly what they will "
        "see. Send it, or cancel."
    )


def started(total: int) -> str:
    return f"Broadcast started: {total} recipient{'' if total == 1 else 's'}."


def _counts(counts: Counts) -> str:
    return f"sent {counts.sent}, failed {counts.failed}, blocked {counts.blocked}"


def progress(counts: Counts, total: int) -> str:
    return f"Broadcast: {counts.done} of {total} done ({_counts(counts)})."


def report(counts: Counts, total: int) -> str:
    text = f"Broadcast finished: {total} recipient{'' if total == 1 else 's'}, {_counts(counts)}."
    if counts.outcome_unknown:
        text += (
            f" {counts.outcome_unknown} of the failed were being sent when the broadcaster "
            "stopped: they may have received it, and were not sent it again."
        )
    return text

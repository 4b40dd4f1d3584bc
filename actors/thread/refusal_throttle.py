"""How often the balance refusal is repeated to one user: at most once per interval.

A user with no balance who keeps writing gets the refusal once, then silence for
:data:`REFUSAL_INTERVAL_SECONDS` (every message is still recorded as rejected). Pure: the
shell passes the clock reading and keeps the map of last-sent times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

REFUSAL_INTERVAL_SECONDS: Final = 10.0


def refusal_due(
    last_sent_at: float | None, now: float, interval: float = REFUSAL_INTERVAL_SECONDS
) -> bool:
    """Whether the refusal may be sent again, given when it was last sent to this user."""
    return last_sent_at is None or now - last_sent_at >= interval


def record_refusal(
    last_sent: Mapping[int, float],
    user_id: int,
    now: float,
    interval: float = REFUSAL_INTERVAL_SECONDS,
) -> dict[int, float]:
    """The map after sending the refusal to ``user_id`` at ``now``; expired entries dropped."""
    kept = {uid: at for uid, at in last_sent.items() if not refusal_due(at, now, interval)}
    kept[user_id] = now
    return kept

"""Deterministic record ids for what Telegram sent, so a redelivered update writes the same id.

A command about a Telegram message gets an id derived from (what, chat id, message id),
timestamped with the message's own date: the same message seen twice (a redelivered update,
a gateway restarted before Telegram saw its offset) yields the same id, and downstream
consumers treat the second record as a duplicate.
"""

from __future__ import annotations

from datetime import datetime

from events.ids import derived_id


def _uuid7_at(ms: int) -> str:
    """The UUIDv7 of millisecond ``ms`` with zero counter and random bits (a namespace)."""
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | 0b10 << 62
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def telegram_record_id(what: str, chat_id: int, message_id: int, at: datetime) -> str:
    """The id of the record ``what`` (``"message"``, ``"stop"``...) caused by one message."""
    ms = int(at.timestamp() * 1000)
    return derived_id(_uuid7_at(ms), f"{what}:{chat_id}:{message_id}")

"""UUIDv7 identifiers (RFC 9562): time-ordered, chosen by the producer of a record.

An event's id is its idempotency key, so producers mint it once and keep it across retries.
Ids minted by one process are strictly increasing, even within one millisecond.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from datetime import UTC, datetime

_MAX_COUNTER = 0xFFF


class _Uuid7Generator:
    """Monotonic UUIDv7: 48-bit Unix milliseconds, 12-bit counter, 62 random bits."""

    __slots__ = ("_counter", "_last_ms", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def __call__(self, now_ns: int | None = None) -> uuid.UUID:
        ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
        rand = int.from_bytes(os.urandom(10), "big")
        with self._lock:
            if ms > self._last_ms:
                self._last_ms = ms
                self._counter = (rand >> 64) & 0x3FF  # random start, room to count up
            else:
                self._counter += 1
                if self._counter > _MAX_COUNTER:
                    self._last_ms += 1
                    self._counter = 0
                ms = self._last_ms
            counter = self._counter
        value = (ms & 0xFFFF_FFFF_FFFF) << 80
        value |= 0x7 << 76
        value |= counter << 64
        value |= 0b10 << 62
        value |= rand & 0x3FFF_FFFF_FFFF_FFFF
        return uuid.UUID(int=value)


new_uuid7 = _Uuid7Generator()
"""Mint a new UUIDv7 (``new_uuid7()``); ids from one process are strictly increasing."""


def uuid7_time(value: uuid.UUID) -> datetime:
    """The creation time (millisecond precision, UTC) encoded in a UUIDv7."""
    if value.version != 7:
        raise ValueError(f"{value} is not a UUIDv7")
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)


def derived_uuid7(parent: uuid.UUID, label: str) -> uuid.UUID:
    """A deterministic UUIDv7 for the record ``label`` caused by ``parent``.

    It carries the parent's timestamp and a hash of (parent, label), so a producer that
    retries after a crash mints the same id again and consumers see a duplicate, not a new
    record. Use it for the events an actor derives from one command (``"turn_started"``,
    ``"charge:step-2"``...).
    """
    digest = hashlib.sha256(parent.bytes + label.encode()).digest()
    rest = int.from_bytes(digest[:10], "big")
    ms = parent.int >> 80 if parent.version == 7 else 0
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= ((rest >> 64) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rest & 0x3FFF_FFFF_FFFF_FFFF
    return uuid.UUID(int=value)

"""UUIDv7 identifiers (RFC 9562): time-ordered, chosen by the producer of a record.

On the wire and in records, ids are canonical UUID strings (36 lowercase characters,
``Id``): decoding strings is several times faster than building ``uuid.UUID`` objects, and
the text is what every consumer (Postgres, logs, kcat) sees anyway.

An event's id is its idempotency key, so producers mint it once and keep it across retries
(or derive it deterministically with :func:`derived_id`). Ids minted by one process are
strictly increasing, even within one millisecond.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, TypeAlias

import msgspec

_MAX_COUNTER = 0xFFF

Id: TypeAlias = Annotated[
    str,
    msgspec.Meta(
        min_length=36,
        max_length=36,
        description="UUID in canonical text form; record ids are UUIDv7",
    ),
]
"""A UUID as its canonical 36-character string (``"0196...-7..."``)."""


class _Uuid7Generator:
    """Monotonic UUIDv7: 48-bit Unix milliseconds, 12-bit counter, 62 random bits."""

    __slots__ = ("_counter", "_last_ms", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def __call__(self, now_ns: int | None = None) -> int:
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
        return value


_generate = _Uuid7Generator()


def _text(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id() -> str:
    """A new UUIDv7 as text; ids from one process are strictly increasing."""
    return _text(_generate())


def new_uuid7() -> uuid.UUID:
    """A new UUIDv7 as a :class:`uuid.UUID`."""
    return uuid.UUID(int=_generate())


def uuid7_time(value: str | uuid.UUID) -> datetime:
    """The creation time (millisecond precision, UTC) encoded in a UUIDv7."""
    parsed = value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    if parsed.version != 7:
        raise ValueError(f"{value} is not a UUIDv7")
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=UTC)


def derived_id(parent: str, label: str) -> str:
    """A deterministic UUIDv7 (text) for the record ``label`` caused by ``parent``.

    It carries the parent's timestamp and a hash of (parent, label), so a producer that
    retries after a crash mints the same id again and consumers see a duplicate, not a new
    record. Use it for the events an actor derives from one command (``"turn_started"``,
    ``"charge:step-2"``...).
    """
    parsed = uuid.UUID(parent)
    digest = hashlib.sha256(parsed.bytes + label.encode()).digest()
    rest = int.from_bytes(digest[:10], "big")
    ms = parsed.int >> 80 if parsed.version == 7 else 0
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= ((rest >> 64) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rest & 0x3FFF_FFFF_FFFF_FFFF
    return _text(value)

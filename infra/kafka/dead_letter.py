"""Dead letters: a record that cannot be decoded is parked, unchanged, in ``<topic>.dlq``.

The copy keeps the original key, value and headers, and adds:

* ``dlq-reason``: a short code (``invalid_json``, ``unknown_type``, ``newer_version``...);
* ``dlq-detail``: the decoder's message (truncated);
* ``dlq-source-topic``, ``dlq-source-partition``, ``dlq-source-offset``: where it came from;
* ``dlq-failed-at``: when (RFC 3339, UTC).

The consumer then commits past the record and goes on with the next one, so one bad record
never blocks a partition. Ops can inspect, fix and re-produce dead letters by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol, TypeVar

from events.catalog import DEAD_LETTER_SUFFIX
from events.codec import Codec, DecodeError

E = TypeVar("E")

HEADER_REASON: Final = "dlq-reason"
HEADER_DETAIL: Final = "dlq-detail"
HEADER_SOURCE_TOPIC: Final = "dlq-source-topic"
HEADER_SOURCE_PARTITION: Final = "dlq-source-partition"
HEADER_SOURCE_OFFSET: Final = "dlq-source-offset"
HEADER_FAILED_AT: Final = "dlq-failed-at"
MAX_DETAIL_BYTES: Final = 2000


class RawRecord(Protocol):
    """What a consumed record offers (``aiokafka.ConsumerRecord`` fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class Producer(Protocol):
    """The part of ``aiokafka.AIOKafkaProducer`` used here."""

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any: ...


def dead_letter_topic(source_topic: str) -> str:
    """``<topic>.dlq`` (works for prefixed names too)."""
    return source_topic + DEAD_LETTER_SUFFIX


def dead_letter_headers(
    record: RawRecord, reason: str, detail: str = "", *, failed_at: datetime | None = None
) -> list[tuple[str, bytes]]:
    """The original headers (minus earlier ``dlq-*`` ones) followed by the dead-letter ones."""
    when = (failed_at or datetime.now(UTC)).astimezone(UTC)
    kept = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq-")]
    return [
        *kept,
        (HEADER_REASON, reason.encode()),
        (HEADER_DETAIL, detail.encode()[:MAX_DETAIL_BYTES]),
        (HEADER_SOURCE_TOPIC, record.topic.encode()),
        (HEADER_SOURCE_PARTITION, str(record.partition).encode()),
        (HEADER_SOURCE_OFFSET, str(record.offset).encode()),
        (HEADER_FAILED_AT, when.isoformat().replace("+00:00", "Z").encode()),
    ]


async def send_to_dead_letter(
    producer: Producer,
    record: RawRecord,
    reason: str,
    detail: str = "",
    *,
    dlq_topic: str | None = None,
    failed_at: datetime | None = None,
) -> None:
    """Produce ``record`` unchanged to its dead-letter topic and wait for the ack."""
    await producer.send_and_wait(
        dlq_topic or dead_letter_topic(record.topic),
        value=record.value,
        key=record.key,
        headers=dead_letter_headers(record, reason, detail, failed_at=failed_at),
    )


async def decode_or_dead_letter(
    codec: Codec[E], record: RawRecord, producer: Producer, *, dlq_topic: str | None = None
) -> E | None:
    """The decoded record, or ``None`` after parking it in the dead-letter topic.

    Callers skip ``None`` and go on; the dead letter is acknowledged before this returns, so
    committing the source offset afterwards loses nothing.
    """
    try:
        return codec.decode(record.value, record.headers)
    except DecodeError as exc:
        await send_to_dead_letter(producer, record, exc.reason, exc.detail, dlq_topic=dlq_topic)
        return None

"""The broadcaster's reading of its two topics: a fold to their end, then following the
admin topic for new announcements and decisions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from actors.broadcast.book import BroadcastBook, BroadcastLogCorrupt
from events.catalog import ADMIN_EVENTS, BROADCAST_EVENTS, TopicSpec, with_prefix
from events.codec import DecodeError, codec_for
from infra.kafka.read_to_end import follow, read_to_end

log = logging.getLogger(__name__)


def _partitions(spec: TopicSpec[Any], prefix: str) -> list[TopicPartition]:
    name = with_prefix(spec, prefix).name
    return [TopicPartition(name, p) for p in range(spec.partitions)]


async def fold_book(
    consumer: AIOKafkaConsumer, prefix: str
) -> tuple[BroadcastBook, dict[TopicPartition, int]]:
    """The book of both topics up to their end offsets now, and where the admin topic was
    left (for :func:`follow_admin`). The admin topic is folded first: a broadcast record
    always follows the announcement it is about. An undecodable admin record is skipped
    (the projector dead-letters it); an undecodable broadcast record stops the fold
    (:class:`BroadcastLogCorrupt`): skipping a delivery intent could send someone the
    announcement twice."""
    book = BroadcastBook()
    positions: dict[TopicPartition, int] = {}
    for spec in (ADMIN_EVENTS, BROADCAST_EVENTS):
        codec = codec_for(spec)
        tps = _partitions(spec, prefix)
        read = await read_to_end(consumer, tps)
        async for _tp, records in read.batches():
            for record in records:
                try:
                    book.apply(codec.decode(record.value, record.headers))
                except DecodeError as exc:
                    if spec is BROADCAST_EVENTS:
                        raise BroadcastLogCorrupt(
                            f"{spec.name} offset {record.offset} cannot be decoded "
                            f"({exc.reason}): the broadcaster will not guess what was sent"
                        ) from exc
                    log.error(  # the projector dead-letters the admin topic's
                        "undecodable admin record skipped while folding broadcasts",
                        extra={"fields": {"reason": exc.reason, "offset": record.offset}},
                    )
        if spec is ADMIN_EVENTS:
            positions = {tp: read.positions.get(tp, 0) for tp in tps}
    return book, positions


async def follow_admin(
    consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int]
) -> AsyncIterator[object]:
    """Every admin record after ``positions``, decoded (undecodable ones are logged and
    skipped: the projector and the payments process dead-letter them already)."""
    codec = codec_for(ADMIN_EVENTS)
    async for _tp, records in follow(consumer, positions, timeout_ms=500):
        for record in records:
            try:
                yield codec.decode(record.value, record.headers)
            except DecodeError as exc:
                log.error(
                    "undecodable admin record skipped",
                    extra={"fields": {"reason": exc.reason, "offset": record.offset}},
                )

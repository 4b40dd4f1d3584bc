"""The commit rule of a consumer whose records finish out of order: per partition, commit
only the *contiguous-acked* offset, the first offset delivered and not yet acked (or, with
nothing in flight, one past the last delivered).

A record is *delivered* when the consumer hands it to its processing, *acked* when what it
caused is durable. Records of one partition are delivered in offset order (offsets may skip:
compaction, transaction markers), acked in any order. Committing at :meth:`commit_point`
never skips a record in flight, so after a crash or a rebalance every unfinished record is
redelivered; everything below it is finished. Pure bookkeeping (no I/O): the thread worker's
own consumer loop (:mod:`infra.kafka.acked_consumer`) feeds it and commits what it answers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)


@dataclass(slots=True)
class PartitionAcks:
    """One partition: offsets in flight (in delivery order) and the last one delivered."""

    in_flight: dict[int, None] = field(default_factory=dict)
    last_delivered: int | None = None

    def commit_point(self) -> int | None:
        for offset in self.in_flight:
            return offset
        return None if self.last_delivered is None else self.last_delivered + 1


class ContiguousAcks(Generic[P]):
    """The contiguous-acked offset of each partition (see the module docstring)."""

    def __init__(self) -> None:
        self._partitions: dict[P, PartitionAcks] = {}

    def delivered(self, partition: P, offset: int) -> None:
        """``offset`` was handed to processing. An offset at or below the last delivered one
        means the consumer was repositioned (seek, new assignment): what was in flight
        before will be delivered again, so it is forgotten."""
        acks = self._partitions.get(partition)
        if acks is None:
            acks = self._partitions[partition] = PartitionAcks()
        elif acks.last_delivered is not None and offset <= acks.last_delivered:
            acks.in_flight.clear()
        acks.in_flight[offset] = None
        acks.last_delivered = offset

    def acked(self, partition: P, offset: int) -> bool:
        """``offset`` is finished; False when it was not in flight (already acked, or
        delivered before a repositioning and so due again)."""
        acks = self._partitions.get(partition)
        if acks is None or offset not in acks.in_flight:
            return False
        del acks.in_flight[offset]
        return True

    def commit_point(self, partition: P) -> int | None:
        """The offset to commit for ``partition`` (the next record to process after a
        restart), or None when nothing was delivered since it was (re)assigned."""
        acks = self._partitions.get(partition)
        return None if acks is None else acks.commit_point()

    def in_flight(self, partition: P) -> int:
        acks = self._partitions.get(partition)
        return 0 if acks is None else len(acks.in_flight)

    def forget(self, partitions: Iterable[P]) -> None:
        """The partitions were revoked: their records will be delivered afresh."""
        for partition in partitions:
            self._partitions.pop(partition, None)

    def partitions(self) -> list[P]:
        return list(self._partitions)

    def total_in_flight(self) -> int:
        """Records delivered and not yet acked, over every partition."""
        return sum(len(acks.in_flight) for acks in self._partitions.values())

    def due(self, committed: Mapping[P, int]) -> dict[P, int]:
        """The commit points that moved past ``committed`` (what was last committed per
        partition): what a commit should send now, nothing when nothing moved."""
        due: dict[P, int] = {}
        for partition, acks in self._partitions.items():
            point = acks.commit_point()
            if point is not None and point > committed.get(partition, -1):
                due[partition] = point
        return due

"""Which billing commands a worker may decide: decodable, keyed by their user, on the
partition their key hashes to; and the co-partitioning of commands and ledger it relies on.

A command on another partition than its key's would open a second :class:`BillingState`
for the same user on this worker (a double starter credit, a split balance), so it is
refused and dead-lettered like an undecodable one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import ConsumerRecord

from events.catalog import BILLING_COMMANDS, BillingCommand
from events.codec import Codec, DecodeError, codec_for
from events.keys import user_key
from infra.kafka.clients import refresh_partitions

PARTITION_CACHE_SIZE: Final = 100_000
_PARTITIONER: Final = DefaultPartitioner()


class TopologyError(Exception):
    """The command and ledger topics are not co-partitioned."""


async def check_copartitioned(reader: AIOKafkaConsumer, commands: str, ledger: str) -> int:
    """The partition count of the ``commands`` topic, after checking ``ledger`` has as many
    (each user's entries must be on the partition of their commands)."""
    counts = []
    for topic in (commands, ledger):
        parts = await refresh_partitions(reader, topic, timeout=30.0)
        if not parts:
            raise TopologyError(f"topic {topic} has no partitions")
        counts.append(len(parts))
    if counts[0] != counts[1]:
        raise TopologyError(
            f"{commands} has {counts[0]} partitions, {ledger} has {counts[1]}: they must "
            "be equal for the ledger fold to hold each user's entries"
        )
    return counts[0]


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a record is not a command this worker may decide (the dead letter's reason)."""

    reason: str
    detail: str


class CommandCheck:
    """Decodes a command record and checks its key and partition (``partitions``: the
    commands topic's partition count, 0 while unknown: no partition check)."""

    def __init__(self, partitions: int = 0) -> None:
        self.partitions = partitions
        self._codec: Codec[BillingCommand] = codec_for(BILLING_COMMANDS)
        self._partition_of_key: dict[str, int] = {}

    def command_of(self, record: ConsumerRecord[bytes, bytes]) -> BillingCommand | Refused:
        try:
            command = self._codec.decode(record.value)
        except DecodeError as exc:
            return Refused(exc.reason, exc.detail)
        if command.key != user_key(command.user_id):
            detail = f"record key {command.key!r} is not the user id {command.user_id}"
            return Refused("key_mismatch", detail)
        expected = self.partition_for(command.key)
        if self.partitions and record.partition != expected:
            return Refused(
                "wrong_partition",
                f"key {command.key!r} hashes to partition {expected} of "
                f"{self.partitions}, the record is on partition {record.partition}",
            )
        return command

    def partition_for(self, key: str) -> int:
        """The partition our producers' partitioner (murmur2) puts ``key`` on."""
        partition = self._partition_of_key.get(key)
        if partition is None:
            if len(self._partition_of_key) >= PARTITION_CACHE_SIZE:
                self._partition_of_key.clear()
            partition = _PARTITIONER(key.encode(), list(range(self.partitions)), None)
            self._partition_of_key[key] = partition
        return partition

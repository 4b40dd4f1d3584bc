"""``botctl topics lag``: how far each projection is behind the log, in records and seconds.

Records behind = end offset of the partition - the projection's stored position; seconds =
now - ``occurred_at`` of the newest record it applied (0 when nothing is behind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import TopicPartition

from infra.endpoints import Endpoints
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile, probe_broker
from infra.postgres import connect as pg_connect
from infra.postgres import quote_schema
from infra.projector.metrics import observe_lag
from projections.catalog import input_topics, select


@dataclass(frozen=True, slots=True)
class LagRow:
    projection: str
    topic: str
    partition: int
    position: int
    end_offset: int
    last_event_at: datetime | None

    @property
    def records(self) -> int:
        return max(0, self.end_offset - self.position)

    def seconds(self, now: datetime) -> float:
        if self.records == 0 or self.last_event_at is None:
            return 0.0
        return max(0.0, (now - self.last_event_at).total_seconds())


@dataclass(frozen=True, slots=True)
class ProjectionLag:
    projection: str
    records: int
    seconds: float
    partitions: list[LagRow]


async def lag(
    endpoints: Endpoints,
    *,
    schema: str = "public",
    topic_prefix: str = "",
    projection: str | None = None,
    profile: BrokerProfile | None = None,
    publish_metrics: bool = True,
) -> list[ProjectionLag]:
    """The lag of each projection (summed over partitions), with per-partition rows."""
    chosen = select(projection)
    profile = profile or await probe_broker(endpoints.kafka_bootstrap)
    conn = await pg_connect(endpoints.database_url)
    try:
        rows = await conn.fetch(
            "SELECT projection, topic, partition, next_offset, last_event_at FROM "
            f"{quote_schema(schema)}.projection_positions WHERE projection = ANY($1::text[])",
            [p.name for p in chosen],
        )
    finally:
        await conn.close()
    stored = {(r["projection"], r["topic"], r["partition"]): r for r in rows}
    consumer = make_consumer(endpoints.kafka_bootstrap, profile, [], group_id=None)
    await consumer.start()
    try:
        await consumer.topics()
        tps: list[TopicPartition] = []
        for spec in input_topics(chosen):
            name = topic_prefix + spec.name
            tps += [
                TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())
            ]
        ends = await consumer.end_offsets(tps) if tps else {}
    finally:
        await consumer.stop()
    now = datetime.now(UTC)
    out: list[ProjectionLag] = []
    for p in chosen:
        names = {topic_prefix + t.name for t in p.topics}
        parts = []
        for tp in tps:
            if tp.topic not in names:
                continue
            r = stored.get((p.name, tp.topic, tp.partition))
            parts.append(
                LagRow(
                    p.name,
                    tp.topic,
                    tp.partition,
                    r["next_offset"] if r else 0,
                    ends.get(tp, 0),
                    r["last_event_at"] if r else None,
                )
            )
        records = sum(x.records for x in parts)
        seconds = max((x.seconds(now) for x in parts), default=0.0)
        out.append(ProjectionLag(p.name, records, seconds, parts))
        if publish_metrics:
            observe_lag(p.name, records, seconds)
    return out


def format_lag(lags: list[ProjectionLag]) -> str:
    """A table for the terminal: one line per projection."""
    lines = [f"{'PROJECTION':12} {'RECORDS BEHIND':>14} {'SECONDS':>9}"]
    lines += [f"{x.projection:12} {x.records:>14} {x.seconds:>9.1f}" for x in lags]
    return "\n".join(lines)

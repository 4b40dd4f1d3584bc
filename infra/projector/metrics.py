"""Projector metrics: lag per projection (shared gauges in :mod:`infra.metrics`), batch sizes,
the delay from a record's ``occurred_at`` to the commit of its batch, and dead letters."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Histogram

from infra.metrics import PROJECTION_LAG_RECORDS, PROJECTION_LAG_SECONDS, REGISTRY

APPLY_DELAY: Final = Histogram(
    "claudegram_projection_apply_delay_seconds",
    "From the newest record's occurred_at to the commit of its batch",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0),
    registry=REGISTRY,
)
BATCH_RECORDS: Final = Histogram(
    "claudegram_projection_batch_records",
    "Records per projector batch",
    buckets=(1, 10, 100, 500, 1000, 2000, 5000),
    registry=REGISTRY,
)

DEAD_LETTERS: Final = Counter(
    "claudegram_projection_dead_letters",
    "Records a projection could not apply and dead-lettered (alert on any increase)",
    ["projection", "reason"],
    registry=REGISTRY,
)


def observe_lag(projection: str, records: int, seconds: float) -> None:
    PROJECTION_LAG_RECORDS.labels(projection=projection).set(records)
    PROJECTION_LAG_SECONDS.labels(projection=projection).set(seconds)

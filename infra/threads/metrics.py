"""The thread worker's own metrics (in the project's registry)."""

from __future__ import annotations

from prometheus_client import Histogram

from infra.metrics import REGISTRY

INBOX_DELIVERY = Histogram(
    "claudegram_thread_inbox_delivery_seconds",
    "From an inbox record's producer timestamp to the thread agent receiving it",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
    registry=REGISTRY,
)

"""The thread worker's own metrics (in the project's registry)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from infra.metrics import REGISTRY

INBOX_DELIVERY = Histogram(
    "claudegram_thread_inbox_delivery_seconds",
    "From an inbox record's producer timestamp to the thread agent receiving it",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
    registry=REGISTRY,
)

LOOP_LAG = Histogram(
    "claudegram_thread_loop_lag_seconds",
    "How late the worker's event loop runs a timer due now (its backlog of ready work)",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5),
    registry=REGISTRY,
)

UNPRICED_MODEL_CHARGES = Counter(
    "claudegram_unpriced_model_charges_total",
    "Usage charges whose model id has no price row (charged at its family's or the table's "
    "highest rate): the price table needs the model",
    ["model"],
    registry=REGISTRY,
)

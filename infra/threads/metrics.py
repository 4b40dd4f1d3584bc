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

TOOL_CALLS = Counter(
    "claudegram_tool_calls_total",
    "Client tool calls by tool and outcome (completed, or the failure's error class)",
    ["tool", "outcome"],
    registry=REGISTRY,
)

TOOL_SECONDS = Histogram(
    "claudegram_tool_call_seconds",
    "Wall time of a client tool call, from its start to its outcome",
    ["tool"],
    buckets=(0.001, 0.005, 0.02, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0),
    registry=REGISTRY,
)

TOOL_STEP_OVERHEAD = Histogram(
    "claudegram_tool_step_overhead_seconds",
    "The tool runtime's own time in a tool step: from the model's tool_use in hand to the "
    "next request ready (durable requests and outcomes, balance check, results), minus the "
    "longest call's own work",
    buckets=(0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1),
    registry=REGISTRY,
)

"""The gateway's Prometheus metrics (in the shared registry)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from infra.metrics import REGISTRY

UPDATES = Counter(
    "claudegram_gateway_updates_total",
    "Telegram updates taken in, by outcome (handled, duplicate, failed)",
    ["outcome"],
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "claudegram_gateway_update_seconds",
    "From an update reaching the gateway to its commands being durable on the log",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
    registry=REGISTRY,
)
COMMANDS = Counter(
    "claudegram_gateway_commands_total",
    "Commands written by the gateway, by record type",
    ["type"],
    registry=REGISTRY,
)
BATCH_PARTS = Histogram(
    "claudegram_gateway_batch_parts",
    "Telegram messages merged into one user message (split pastes, albums)",
    buckets=(1, 2, 3, 5, 10, 20),
    registry=REGISTRY,
)
REFUSED = Counter(
    "claudegram_gateway_refused_total",
    "Input refused with a reply, by reason (unsupported, too_large)",
    ["reason"],
    registry=REGISTRY,
)

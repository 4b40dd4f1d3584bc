"""Billing's Prometheus metrics (in the shared registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from infra.metrics import REGISTRY

COMMANDS = Counter(
    "claudegram_billing_commands_total",
    "Billing commands processed, by outcome (applied, rejected, repeat, dead_letter)",
    ["outcome"],
    registry=REGISTRY,
)
REJECTIONS = Counter(
    "claudegram_billing_rejections_total",
    "Billing operations rejected, by reason",
    ["reason"],
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "claudegram_billing_batch_seconds",
    "Time to decide, append (acked) and commit one batch of billing commands",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
FOLDED = Counter(
    "claudegram_billing_folded_entries_total",
    "Ledger entries folded when partitions were assigned",
    registry=REGISTRY,
)
DUPLICATE_ENTRIES = Gauge(
    "claudegram_billing_duplicate_entries",
    "Ledger entries skipped by the fold because their operation was already applied "
    "(only a second writer, e.g. a zombie after a rebalance, produces them)",
    registry=REGISTRY,
)
REFUNDS = Counter(
    "claudegram_refunds_total",
    "Refund outcomes in the payments process (refunded, declined, telegram_error)",
    ["outcome"],
    registry=REGISTRY,
)

"""Billing's Prometheus metrics (in the shared registry)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import Counter, Gauge, Histogram

from events.billing import OperationRejected
from events.envelope import event_type
from infra.metrics import LEDGER_ENTRIES, REGISTRY

log = logging.getLogger("infra.billing.worker")

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
SUBSIDY_UNREAD = Counter(
    "claudegram_billing_subsidy_unread_total",
    "Batches of billing commands held because the cache-subsidy schedule could not be read "
    "(they come again; none is priced without it)",
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


def rejected(entry: OperationRejected) -> None:
    """Count and log a rejected billing operation."""
    REJECTIONS.labels(entry.reason).inc()
    log.warning(
        "billing operation rejected",
        extra={
            "fields": {
                "user_id": entry.user_id,
                "operation_id": entry.operation_id,
                "reason": entry.reason,
                "detail": entry.detail,
            }
        },
    )


def count_outcomes(kinds: Mapping[str, int]) -> None:
    """Count a batch's outcomes: ledger entries by type, commands by outcome."""
    for kind, n in kinds.items():
        if kind == "repeat":
            COMMANDS.labels("repeat").inc(n)
            continue
        LEDGER_ENTRIES.labels(kind).inc(n)
        outcome = "rejected" if kind == event_type(OperationRejected) else "applied"
        COMMANDS.labels(outcome).inc(n)

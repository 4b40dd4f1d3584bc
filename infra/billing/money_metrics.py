"""The operator's money view: cost, tokens, revenue, payments and refunds as Prometheus
counters, observed once per ledger entry when the billing worker appends it.

The billing worker is the one writer of the ledger and appends each operation once (its
fold rejects a repeat), so these counters count each entry once per worker lifetime; a
restart resets them as Prometheus expects (``rate`` and ``increase`` handle resets).
Analyses over all time come from the ledger itself (``botctl report``), not from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter

from events.billing import PaymentCredited, RefundDebited, RefundReversed, UsageDebited
from infra.metrics import REGISTRY

COST_USD = Counter(
    "claudegram_cost_usd_total",
    "Usage charged at list price, by model and tool ('-' when none)",
    ["model", "tool"],
    registry=REGISTRY,
)
TOKENS = Counter(
    "claudegram_tokens_total",
    "Tokens charged, by model and kind (input, output, cache_read, cache_write)",
    ["model", "kind"],
    registry=REGISTRY,
)
PAYMENTS_USD = Counter(
    "claudegram_payments_usd_total",
    "Money moved by payments, by kind (credited, refunded, reversed); revenue = credited "
    "- refunded + reversed",
    ["kind"],
    registry=REGISTRY,
)
PAYMENTS = Counter(
    "claudegram_payments_total",
    "Payments, refunds and refund reversals appended to the ledger",
    ["kind"],
    registry=REGISTRY,
)
STARS = Counter(
    "claudegram_payments_stars_total",
    "Stars paid or refunded, by kind",
    ["kind"],
    registry=REGISTRY,
)


def observe_entries(entries: Iterable[Any]) -> None:
    """Count the money of freshly appended ledger entries (other records are ignored)."""
    for entry in entries:
        if isinstance(entry, UsageDebited):
            _usage(entry)
        elif isinstance(entry, PaymentCredited):
            _payment("credited", float(entry.amount), entry.stars)
        elif isinstance(entry, RefundDebited):
            _payment("refunded", float(-entry.amount), entry.stars)
        elif isinstance(entry, RefundReversed):
            _payment("reversed", float(entry.amount), 0)


def _usage(entry: UsageDebited) -> None:
    model = entry.model or "-"
    COST_USD.labels(model, entry.tool_name or "-").inc(float(-entry.amount))
    usage = entry.usage
    if usage is None:
        return
    for kind, count in (
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("cache_read", usage.cache_read_input_tokens),
        ("cache_write", usage.cache_creation_input_tokens),
    ):
        if count:
            TOKENS.labels(model, kind).inc(count)


def _payment(kind: str, usd: float, stars: int) -> None:
    PAYMENTS.labels(kind).inc()
    PAYMENTS_USD.labels(kind).inc(max(usd, 0.0))
    if stars:
        STARS.labels(kind).inc(stars)

"""The operator's money view: cost, tokens, revenue, payments and refunds as Prometheus
counters, observed once per ledger entry when the billing worker appends it.

The billing worker is the one writer of the ledger and appends each operation once (its
fold rejects a repeat), so these counters count each entry once per worker lifetime; a
restart resets them as Prometheus expects (``rate`` and ``increase`` handle resets).
Analyses over all time come from the ledger itself (``botctl report``), not from here.

Two gauges describe the users of the worker's partitions (sum them over the workers):
``claudegram_active_users`` (users charged in the last hour and day, :class:`ActiveUsers`)
and ``claudegram_balances_below_zero`` (users whose balance is negative now, counted by the
worker's states at each scrape).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

from prometheus_client import Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

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


BALANCES_BELOW_ZERO = Gauge(
    "claudegram_balances_below_zero",
    "Users of this billing worker's partitions whose balance is below zero",
    registry=REGISTRY,
)

WINDOWS: Final = {"1h": 3600.0, "24h": 86400.0}


class ActiveUsers:
    """Users charged recently: each user's last charge time, forgotten once older than the
    longest window (so it holds at most the users of the last day). Written by the event
    loop, read by the metrics thread: a lock keeps both exact."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()
        self._since_prune = 0

    def seen(self, user_id: int) -> None:
        now = self._clock()
        with self._lock:
            self._last[user_id] = now
            self._since_prune += 1
            if self._since_prune >= 10_000:  # bounded even when nobody scrapes
                self._prune(now)

    def counts(self) -> dict[str, int]:
        """Per window (``1h``, ``24h``): users charged within it."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            ages = [now - at for at in self._last.values()]
        return {name: sum(1 for age in ages if age <= span) for name, span in WINDOWS.items()}

    def __len__(self) -> int:
        with self._lock:
            return len(self._last)

    def _prune(self, now: float) -> None:
        horizon = now - max(WINDOWS.values())
        self._last = {u: at for u, at in self._last.items() if at >= horizon}
        self._since_prune = 0


ACTIVE_USERS = ActiveUsers()


class _ActiveUsersCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "claudegram_active_users",
            "Users charged by this billing worker within the window (1h, 24h)",
            labels=["window"],
        )
        for window, count in ACTIVE_USERS.counts().items():
            family.add_metric([window], count)
        yield family


REGISTRY.register(_ActiveUsersCollector())


def observe_entries(entries: Iterable[Any]) -> None:
    """Count the money of freshly appended ledger entries (other records are ignored)."""
    for entry in entries:
        if isinstance(entry, UsageDebited):
            _usage(entry)
            ACTIVE_USERS.seen(entry.user_id)
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

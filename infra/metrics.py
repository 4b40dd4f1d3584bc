"""Prometheus metrics of every service, exposed on ``METRICS_PORT`` at ``/metrics`` (beside
``/healthz`` and ``/readyz``, see :mod:`infra.service_health`).

Metric objects live here, in one registry, so a name is defined once and every service that
uses it agrees on its labels. The dashboards in ``deploy/grafana`` query these names.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer

from infra.service_health import Readiness, health_app

REGISTRY = CollectorRegistry(auto_describe=True)
# process_start_time_seconds (restarts), resident memory and CPU of every service
ProcessCollector(registry=REGISTRY)

TURNS = Counter(
    "claudegram_turns_total", "Turns finished, by outcome", ["outcome"], registry=REGISTRY
)
MODEL_FIRST_TOKEN = Histogram(
    "claudegram_model_first_token_seconds",
    "Time from the model request to its first streamed token",
    registry=REGISTRY,
)
PIPELINE_ADDED = Histogram(
    "claudegram_pipeline_added_seconds",
    "Latency the pipeline adds: update to model request, last token to final message",
    ["leg"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
    registry=REGISTRY,
)
REBALANCES = Counter(
    "claudegram_rebalances_total",
    "Partition assignments a consumer group member received (one per rebalance), by service",
    ["service"],
    registry=REGISTRY,
)
LEDGER_ENTRIES = Counter(
    "claudegram_ledger_entries_total",
    "Ledger entries appended, by kind",
    ["kind"],
    registry=REGISTRY,
)
PROJECTION_LAG_RECORDS = Gauge(
    "claudegram_projection_lag_records",
    "Records behind the end of the log",
    ["projection"],
    registry=REGISTRY,
)
PROJECTION_LAG_SECONDS = Gauge(
    "claudegram_projection_lag_seconds",
    "Age of the newest record applied",
    ["projection"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "claudegram_dead_letters_total",
    "Records sent to a dead-letter topic",
    ["topic"],
    registry=REGISTRY,
)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Probes every few seconds would flood stderr; requests are not logged."""


def serve_metrics(port: int | None, readiness: Readiness | None = None) -> None:
    """Expose ``/metrics``, ``/healthz`` and ``/readyz`` on ``port`` (no-op when unset), from
    a daemon thread. Without ``readiness`` the process is ready as soon as it serves."""
    if port is None:
        return
    app = health_app(make_wsgi_app(REGISTRY), readiness or Readiness())
    server = make_server(
        "0.0.0.0", port, app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()

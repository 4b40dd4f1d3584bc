"""The one way the project builds a ``faust.App``: broker options from the compat switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust

from infra.kafka.compat import BrokerProfile, faust_options


def make_faust_app(
    app_id: str,
    bootstrap: str,
    profile: BrokerProfile,
    *,
    data_dir: Path,
    topic_partitions: int = 12,
    **overrides: Any,
) -> faust.App:
    """A Faust app with in-memory stores (tables recover from their changelogs), no web
    server, manual acks where streams ask for them, and the broker's workarounds."""
    options: dict[str, Any] = {
        "broker": f"kafka://{bootstrap.split(',')[0]}",
        "broker_consumer": [f"kafka://{s}" for s in bootstrap.split(",")],
        "broker_producer": [f"kafka://{s}" for s in bootstrap.split(",")],
        "store": "memory://",
        "datadir": str(data_dir),
        "web_enabled": False,
        "topic_partitions": topic_partitions,
        "topic_replication_factor": 1,
        "consumer_auto_offset_reset": "earliest",
        "table_cleanup_interval": 30.0,
        **faust_options(profile),
        **overrides,
    }
    return faust.App(app_id, **options)

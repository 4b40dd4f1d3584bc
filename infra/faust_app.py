"""The one way the project builds a ``faust.App``: broker options from the compat switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust

from infra.kafka.compat import TANSU_FETCH_MAX_WAIT_MS, BrokerProfile, faust_options


def make_faust_app(
    app_id: str,
    bootstrap: str,
    profile: BrokerProfile,
    *,
    data_dir: Path,
    topic_partitions: int = 12,
    fetch_max_wait_ms: int | None = None,
    **overrides: Any,
) -> faust.App:
    """A Faust app with in-memory stores (tables recover from their changelogs), no web
    server, manual acks where streams ask for them, and the broker's workarounds (on Tansu
    the consumers' fetch wait is cut to ``fetch_max_wait_ms``, default
    ``TANSU_FETCH_MAX_WAIT_MS``)."""
    if profile.tansu_workarounds:
        limit_faust_fetch_wait(fetch_max_wait_ms or TANSU_FETCH_MAX_WAIT_MS)
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


def limit_faust_fetch_wait(max_wait_ms: int) -> None:
    """Cap the fetch wait of Faust's consumers (its driver hard-codes 1500 ms).

    Faust gives no setting for it, hence the patch of its driver's consumer class, in this
    process only (see ``TANSU_FETCH_MAX_WAIT_MS`` for why it matters on Tansu).
    """
    import types

    import aiokafka
    import faust.transport.drivers.aiokafka as driver

    real = aiokafka.AIOKafkaConsumer
    if getattr(driver.aiokafka, "_fetch_wait_limited", False):  # type: ignore[attr-defined]
        return

    class LimitedWaitConsumer(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["fetch_max_wait_ms"] = min(kwargs.get("fetch_max_wait_ms", 500), max_wait_ms)
            super().__init__(*args, **kwargs)

    proxy = types.SimpleNamespace(
        **{name: getattr(aiokafka, name) for name in dir(aiokafka) if not name.startswith("__")}
    )
    proxy.AIOKafkaConsumer = LimitedWaitConsumer
    proxy._fetch_wait_limited = True
    driver.aiokafka = proxy  # type: ignore[attr-defined]

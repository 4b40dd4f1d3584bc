"""Factories for the project's aiokafka producers, consumers and admin clients.

Every client takes its broker-specific options from :mod:`infra.kafka.compat`, so the Tansu
workarounds stay behind one switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from infra.kafka.compat import TANSU_FETCH_MAX_WAIT_MS, BrokerProfile, producer_options


def make_producer(bootstrap: str, profile: BrokerProfile, **overrides: Any) -> AIOKafkaProducer:
    options = {**producer_options(profile), **overrides}
    return AIOKafkaProducer(bootstrap_servers=bootstrap, **options)


def consumer_options(profile: BrokerProfile) -> dict[str, Any]:
    options: dict[str, Any] = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
    if profile.tansu_workarounds:
        # Tansu completes a group join only after the rebalance timeout: keep it short.
        options["rebalance_timeout_ms"] = 3000
        options["session_timeout_ms"] = 6000
        options["heartbeat_interval_ms"] = 1000
        options["fetch_max_wait_ms"] = TANSU_FETCH_MAX_WAIT_MS
    return options


def make_consumer(
    bootstrap: str,
    profile: BrokerProfile,
    topics: Sequence[str],
    *,
    group_id: str | None,
    **overrides: Any,
) -> AIOKafkaConsumer:
    options = {**consumer_options(profile), **overrides}
    return AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group_id, **options)


def make_admin(bootstrap: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap)

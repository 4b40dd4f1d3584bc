"""The users actor's Prometheus metrics (in the shared registry)."""

from __future__ import annotations

from prometheus_client import Counter

from infra.metrics import REGISTRY

USER_COMMANDS = Counter(
    "claudegram_users_commands_total",
    "Users commands decided, by outcome (applied, noop)",
    ["outcome"],
    registry=REGISTRY,
)
USER_EVENTS = Counter(
    "claudegram_users_events_total",
    "Users events written, by type",
    ["type"],
    registry=REGISTRY,
)

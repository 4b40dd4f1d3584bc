"""A consumer group member is ready only with its partitions assigned, and not mid-rebalance.

:func:`track_assignment` wraps a service's aiokafka rebalance listener so that its
``/readyz`` condition is pending from the start until the first assignment has been handled
(the wrapped listener's ``on_partitions_assigned`` returned: states restored, offsets
sought), pending again from a rebalance's revocation until the next assignment is handled.
Each assignment also counts in ``claudegram_rebalances_total`` (by service).
"""

from __future__ import annotations

from aiokafka import ConsumerRebalanceListener, TopicPartition

from infra.metrics import REBALANCES
from infra.service_health import Readiness, startup_condition

WAITING: str = "waiting for the group's partition assignment"
REBALANCING: str = "rebalancing"


class _TrackingListener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self, inner: ConsumerRebalanceListener, readiness: Readiness | None, service: str
    ) -> None:
        self._inner = inner
        self._readiness = readiness
        self._name = startup_condition(service)
        self._rebalances = REBALANCES.labels(service)
        self._assigned_once = False
        if readiness is not None:
            readiness.require(self._name, WAITING)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # aiokafka revokes (nothing) before the first join too: still waiting, then
        if self._readiness is not None:
            self._readiness.require(self._name, REBALANCING if self._assigned_once else WAITING)
        await self._inner.on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._inner.on_partitions_assigned(assigned)
        self._assigned_once = True
        self._rebalances.inc()
        if self._readiness is not None:
            self._readiness.met(self._name)


def track_assignment(
    listener: ConsumerRebalanceListener, readiness: Readiness | None, service: str
) -> ConsumerRebalanceListener:
    """``listener``, counting the service's rebalances and reporting
    ``"<service> partitions"`` in ``readiness`` (when there is one)."""
    return _TrackingListener(listener, readiness, service)

"""Faust commits only the contiguous-acked offset of the topics we say (our commit rule).

faust-streaming 0.15 computes the offset to commit in ``Consumer._new_offset`` from its list
of acked offsets, and its guard against a gap at the head of that list is off by one
(upstream faust-streaming#606): with offset ``n`` committed and ``n`` still in flight, acks of
``n+1, n+2`` commit ``n+3``; and with nothing committed yet (or offset 0 committed, which is
falsy) there is no guard at all. A record in flight is then never redelivered after a crash
or a rebalance. :func:`own_commit_rule` replaces that one method, for the given topics, with
:class:`~infra.kafka.contiguous_acks.ContiguousAcks`, which the agent feeds with what it
delivered and acked; every commit path of Faust (interval, ``commit_every``, rebalance,
stop) goes through it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from infra.kafka.contiguous_acks import ContiguousAcks

log = logging.getLogger(__name__)


def own_commit_rule(consumer: Any, acks: ContiguousAcks[Any], topics: Collection[str]) -> None:
    """Make ``consumer`` (a Faust consumer) commit ``acks.commit_point(tp)`` for ``topics``."""
    if not callable(getattr(consumer, "_new_offset", None)):
        raise RuntimeError(
            "this faust-streaming has no Consumer._new_offset: the commit rule needs porting"
        )
    original: Callable[[Any], int | None] = consumer._new_offset
    owned = frozenset(topics)

    def new_offset(tp: Any) -> int | None:
        if tp.topic not in owned:
            return original(tp)
        point = acks.commit_point(tp)
        if point is not None:
            _trim(consumer, tp, point)
        return point

    consumer._new_offset = new_offset


def _trim(consumer: Any, tp: Any, point: int) -> None:
    """Drop Faust's own record of acks below ``point`` (it would otherwise only grow)."""
    acked = consumer._acked.get(tp)
    if acked:
        acked[:] = [offset for offset in acked if offset >= point]
    index = consumer._acked_index.get(tp)
    if index:
        index.difference_update([offset for offset in index if offset < point])

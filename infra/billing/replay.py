"""Replay: fold the whole ledger topic from offset zero (optionally as of a moment).

``replay_ledger`` rebuilds every user's billing state exactly as the live worker holds it,
because the live state is nothing but the same fold. Analysts use it to answer "what was
this balance at time T"; tests and the bench compare it with the live state.
"""

from __future__ import annotations

from datetime import datetime

from actors.billing.ledger import BillingState
from events.catalog import BILLING_LEDGER, with_prefix
from infra.billing.ledger_log import fold_partitions
from infra.kafka.clients import make_consumer
from infra.kafka.compat import BrokerProfile


async def replay_ledger(
    bootstrap: str,
    profile: BrokerProfile,
    *,
    topic_prefix: str = "",
    until: datetime | None = None,
) -> dict[str, BillingState]:
    """Every user's state (by user key) folded from the ledger topic, up to ``until``."""
    topic = with_prefix(BILLING_LEDGER, topic_prefix).name
    reader = make_consumer(bootstrap, profile, [], group_id=None, max_partition_fetch_bytes=8 << 20)
    await reader.start()
    try:
        await reader.topics()
        partitions = sorted(reader.partitions_for_topic(topic) or ())
        folded = await fold_partitions(reader, topic, partitions, until=until)
    finally:
        await reader.stop()
    states: dict[str, BillingState] = {}
    for by_key in folded.values():
        states.update(by_key)
    return states

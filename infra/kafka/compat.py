"""Broker identification and the one switch for the Tansu workarounds.

The Tansu build (``EMBEDDED_BROKER=tansu``) answers a wrong high watermark for multi-record
batches and fails idempotent producers (see BRIEF.md). Every producer and Faust app in the
project takes its batching and idempotence options from :func:`producer_options` /
:func:`faust_options`, so the workaround lives here and nowhere else: on for Tansu (identified
by its cluster id), off for Apache Kafka, where producers are idempotent (a retried send is
never written twice) and batch freely.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final

from aiokafka.conn import create_conn
from aiokafka.protocol.metadata import MetadataRequest

TANSU_CLUSTER_ID: Final = "tansu_cluster"
SINGLE_RECORD_BATCH_BYTES: Final = 16
TANSU_FETCH_MAX_WAIT_MS: Final = 10
"""Tansu answers a fetch only when ``fetch_max_wait_ms`` has passed, even when records arrived
meanwhile (measured: 1500 ms wait -> 120-720 ms delivery latency; 10 ms -> 2-5 ms)."""


FAUST_SESSION_TIMEOUT_S: Final = 10.0
FAUST_HEARTBEAT_INTERVAL_S: Final = 2.0
"""A Faust worker killed without leaving its group (kill -9, OOM, a lost machine) holds its
partitions until the broker's session timeout passes; only then does a restarted or surviving
worker take them over. Faust's default of 60 s made every such crash a minute of silence for
the users on those partitions; 10 s with a 2 s heartbeat (Kafka's default before 3.0) keeps
failover to about 10 s while tolerating event-loop stalls of several seconds."""


class BrokerUnreachable(Exception):
    """No broker answered at the configured bootstrap servers."""


@dataclass(frozen=True, slots=True)
class BrokerProfile:
    """What the code needs to know about the broker it talks to."""

    cluster_id: str
    tansu_workarounds: bool


def decide_workarounds(compat: str, cluster_id: str) -> bool:
    """``compat`` is the BROKER_COMPAT setting: auto, tansu or kafka."""
    if compat == "tansu":
        return True
    if compat == "kafka":
        return False
    return cluster_id == TANSU_CLUSTER_ID


async def probe_cluster_id(bootstrap_servers: str, timeout: float = 5.0) -> str:
    """The cluster id from a Metadata v2 answer of the first broker that answers."""
    errors = []
    for server in bootstrap_servers.split(","):
        host, _, port = server.rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout * 1000)), timeout
            )
        except (OSError, TimeoutError) as exc:
            errors.append(f"{server}: {exc or type(exc).__name__}")
            continue
        except Exception as exc:  # aiokafka raises its own KafkaConnectionError
            errors.append(f"{server}: {exc}")
            continue
        try:
            answer = await asyncio.wait_for(conn.send(MetadataRequest(topics=[])), timeout)
        except Exception as exc:
            errors.append(f"{server}: {exc or type(exc).__name__}")
            continue
        finally:
            conn.close()
        return str(getattr(answer, "cluster_id", None) or "")
    raise BrokerUnreachable(
        f"no Kafka broker answered at {bootstrap_servers} ({'; '.join(errors)})"
    )


async def probe_broker(bootstrap_servers: str, compat: str = "auto") -> BrokerProfile:
    cluster_id = await probe_cluster_id(bootstrap_servers)
    return BrokerProfile(cluster_id, decide_workarounds(compat, cluster_id))


def producer_options(profile: BrokerProfile) -> dict[str, Any]:
    """Keyword options for every aiokafka producer of the project."""
    options: dict[str, Any] = {"enable_idempotence": not profile.tansu_workarounds, "acks": "all"}
    if profile.tansu_workarounds:
        options["max_batch_size"] = SINGLE_RECORD_BATCH_BYTES
        options["linger_ms"] = 0
    return options


def faust_options(profile: BrokerProfile) -> dict[str, Any]:
    """Keyword options for every faust.App of the project."""
    options: dict[str, Any] = {
        "producer_acks": -1,
        "broker_session_timeout": FAUST_SESSION_TIMEOUT_S,
        "broker_heartbeat_interval": FAUST_HEARTBEAT_INTERVAL_S,
    }
    if profile.tansu_workarounds:
        options["producer_max_batch_size"] = SINGLE_RECORD_BATCH_BYTES
        # Tansu completes a group join only after a delay tied to these timeouts
        # (measured: session 60 s -> 30 s join; session 6 s -> 3 s join).
        options["broker_rebalance_timeout"] = 3
        options["broker_session_timeout"] = 6
        options["broker_heartbeat_interval"] = 1
    return options

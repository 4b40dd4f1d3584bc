"""Kafka's own command-line tools, run from the embedded broker's jars.

``botctl kafka kafka-topics --list`` runs what ``bin/kafka-topics.sh --list`` runs in a Kafka
distribution: the same main class, from the same pinned jars, against the configured cluster
(``--bootstrap-server`` is added unless given).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from infra.stack.kafka_runtime import KafkaRuntime

TOOLS: Final = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
    "kafka-configs": "kafka.admin.ConfigCommand",
    "kafka-broker-api-versions": "org.apache.kafka.tools.BrokerApiVersionsCommand",
    "kafka-metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
    "kafka-transactions": "org.apache.kafka.tools.TransactionsCommand",
    "kafka-dump-log": "kafka.tools.DumpLogSegments",
    "kafka-storage": "kafka.tools.StorageTool",
}
OFFLINE_TOOLS: Final = frozenset({"kafka-dump-log", "kafka-storage"})
"""Tools that read files, not a cluster: no ``--bootstrap-server`` for them."""
TOOL_HEAP: Final = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")


def tool_name(name: str) -> str:
    """``topics``, ``kafka-topics`` and ``kafka-topics.sh`` all name ``kafka-topics``."""
    name = name.removesuffix(".sh")
    return name if name.startswith("kafka-") else f"kafka-{name}"


def tool_argv(
    runtime: KafkaRuntime, tool: str, args: Sequence[str], bootstrap: str | None
) -> list[str]:
    """The command line of ``tool`` with ``args``; raises KeyError for an unknown tool."""
    name = tool_name(tool)
    main_class = TOOLS[name]
    extra: list[str] = []
    given = any(a.startswith(("--bootstrap-server", "--bootstrap-controller")) for a in args)
    if bootstrap and name not in OFFLINE_TOOLS and not given and "--help" not in args:
        extra = ["--bootstrap-server", bootstrap]
    return [str(runtime.java), *TOOL_HEAP, "-cp", runtime.classpath, main_class, *extra, *args]

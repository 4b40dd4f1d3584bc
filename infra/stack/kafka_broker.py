"""The embedded Apache Kafka: a single KRaft node (broker and controller) on loopback.

Everything lives in ``<state_dir>/kafka/``: ``cluster.id`` (made once), ``server.properties``
and ``log4j2.properties`` (written at every start), and ``data/``, the log directory,
formatted on first start the way ``kafka-storage format`` does. A restart reuses the data and,
when they are still free, the ports of the previous start.

Class data sharing: the first format run on a Java runtime and set of jars dumps the classes
it loaded into an archive beside the jars (``-XX:ArchiveClassesAtExit``); later JVMs (the
format tool, the broker) map it instead of loading and verifying those classes again, which
halved the format tool's CPU (3.4 -> 1.7 s). A JVM that cannot use the archive (another build
of Java) ignores it with a warning and starts as without it. Publishing a new archive deletes
the other archives beside it (of other Kafka versions or Java runtimes): nothing maps them
again, and each is some 20 MB.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from events.catalog import DEFAULT_PARTITIONS, INFINITE_RETENTION_MS
from infra.stack.kafka_runtime import KafkaRuntime
from infra.stack.ports import free_port, port_open

DEFAULT_HEAP_OPTS: Final = "-Xmx384m -Xms128m"
JVM_OPTS: Final = (
    "-XX:+UseSerialGC",
    "-XX:MaxDirectMemorySize=128m",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
"""Serial GC: a 384 MB heap on a 2-core machine gains nothing from parallel collectors and
their threads. Measured (bench/bench_broker_latency.py, bench/RESULTS.md 2026-12-02): with
other processes on both cores, Parallel and G1 gave no lower publish/delivery p99 than Serial
(their pauses stretch when their GC threads wait for a core)."""

GC_LOG_ROTATION: Final = "filecount=2,filesize=1m"
"""The GC log keeps two files of 1 MB at most (a line per pause, about one every 10 s)."""

LOG4J2: Final = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


class KafkaFormatError(Exception):
    """The log directory could not be formatted; the message has the tool's output."""


@dataclass(frozen=True, slots=True)
class KafkaLayout:
    """The files of one embedded broker under ``root`` (``<state_dir>/kafka``)."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def properties(self) -> Path:
        return self.root / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.root / "log4j2.properties"

    @property
    def gc_log(self) -> Path:
        return self.root / "gc.log"

    @property
    def cluster_id_file(self) -> Path:
        return self.root / "cluster.id"

    @property
    def formatted(self) -> bool:
        return (self.data_dir / "meta.properties").is_file()


def new_cluster_id() -> str:
    """A random cluster id in Kafka's form: a UUID, URL-safe base64 without padding, never
    starting with ``-`` (as Kafka's own ``Uuid.randomUuid``): the storage tool's argument
    parser would read such an id as an option, and formatting would fail (1 start in 64)."""
    while True:
        value = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not value.startswith("-"):
            return value


def cluster_id(layout: KafkaLayout) -> str:
    """This stack's own cluster id, made and saved on first use (an unusable one saved by an
    earlier version, never formatted, is replaced)."""
    try:
        value = layout.cluster_id_file.read_text().strip()
        if not (value.startswith("-") and not layout.formatted):
            return value
        raise FileNotFoundError
    except FileNotFoundError:
        value = new_cluster_id()
        layout.root.mkdir(parents=True, exist_ok=True)
        layout.cluster_id_file.write_text(value + "\n")
        return value


def server_properties(data_dir: Path, host: str, port: int, controller_port: int) -> str:
    """The broker's configuration: one node, replication factor 1 everywhere, the catalog's
    partition count and retention as defaults, no waiting for a group's first members."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": str(DEFAULT_PARTITIONS),
        "default.replication.factor": "1",
        "log.retention.ms": str(INFINITE_RETENTION_MS),
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        "background.threads": "4",
        "log.cleaner.threads": "1",
        "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def previous_ports(layout: KafkaLayout) -> tuple[int, int] | None:
    """The (broker, controller) ports of the last start, if recorded."""
    try:
        text = layout.properties.read_text()
    except FileNotFoundError:
        return None
    match = re.search(r"^listeners=PLAINTEXT://[^:]+:(\d+),CONTROLLER://[^:]+:(\d+)$", text, re.M)
    return (int(match.group(1)), int(match.group(2))) if match else None


def choose_ports(layout: KafkaLayout, host: str) -> tuple[int, int]:
    """The previous start's ports when both are still free, else two fresh ones."""
    previous = previous_ports(layout)
    if previous is not None and not any(port_open(host, p) for p in previous):
        return previous
    port = free_port(host)
    controller = free_port(host)
    while controller == port:
        controller = free_port(host)
    return port, controller


def class_archive(runtime: KafkaRuntime) -> Path:
    """The class-data-sharing archive of this Java executable and these jars (by path, size
    and mtime: the JVM refuses an archive when any of them changed, so a change names a new
    archive instead)."""
    files = [runtime.java.resolve(), *sorted(runtime.jar_dir.glob("*.jar"))]
    key = "|".join(f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    return runtime.jar_dir.parent / f"classes-{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsa"


ARCHIVE_PATTERN: Final = "classes-[0-9a-f]*.jsa"
"""The names of :func:`class_archive` (a dump still being written has a suffix after it)."""


def prune_class_archives(current: Path) -> list[Path]:
    """Delete the archives beside ``current`` other than it (those of older jars or another
    Java: the name changes with them); the ones deleted. A JVM that has one mapped keeps its
    mapping; one that starts without it starts as without an archive."""
    pruned = []
    for other in current.parent.glob(ARCHIVE_PATTERN):
        if other.name != current.name:
            with contextlib.suppress(OSError):
                other.unlink()
                pruned.append(other)
    return pruned


def jvm_args(
    runtime: KafkaRuntime,
    layout: KafkaLayout,
    heap_opts: str | None,
    *,
    dump_classes_to: Path | None = None,
) -> list[str]:
    archive = class_archive(runtime)
    sharing = (
        [f"-XX:ArchiveClassesAtExit={dump_classes_to}"]
        if dump_classes_to is not None
        else [f"-XX:SharedArchiveFile={archive}"]
        if archive.exists()
        else []
    )
    return [
        str(runtime.java),
        *(heap_opts or DEFAULT_HEAP_OPTS).split(),
        *JVM_OPTS,
        *sharing,
        f"-Dlog4j2.configurationFile={layout.log4j}",
        "-cp",
        runtime.classpath,
    ]


def write_config(layout: KafkaLayout, host: str, port: int, controller_port: int) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.log4j.write_text(LOG4J2)
    tmp = layout.properties.with_suffix(".tmp")
    tmp.write_text(server_properties(layout.data_dir, host, port, controller_port))
    tmp.replace(layout.properties)


async def format_storage(runtime: KafkaRuntime, layout: KafkaLayout, heap_opts: str | None) -> None:
    """``kafka-storage format`` with this stack's cluster id, once: never over existing data."""
    if layout.formatted:
        return
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    archive = class_archive(runtime)
    dump = None
    if not archive.exists() and os.access(archive.parent, os.W_OK):
        dump = archive.with_name(f"{archive.name}.{uuid.uuid4().hex}")
    tool = await asyncio.create_subprocess_exec(
        *jvm_args(runtime, layout, heap_opts, dump_classes_to=dump),
        "kafka.tools.StorageTool",
        "format",
        "--cluster-id",
        cluster_id(layout),
        "--config",
        str(layout.properties),
        "--ignore-formatted",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await tool.communicate()
    if dump is not None:  # written by the JVM as it exited: now complete, published atomically
        with contextlib.suppress(OSError):
            if tool.returncode == 0 and dump.stat().st_size > 0:
                os.replace(dump, archive)
                prune_class_archives(archive)
        with contextlib.suppress(OSError):
            dump.unlink()
    if tool.returncode != 0 or not layout.formatted:
        text = out.decode(errors="replace").strip()[-2000:]
        raise KafkaFormatError(f"kafka: formatting {layout.data_dir} failed: {text}")


def gc_logging(layout: KafkaLayout) -> str:
    """The broker's stop-the-world pauses, one line each with the time and the JVM's uptime,
    in ``<kafka>/gc.log``: a pause stalls every request in flight, and this log is where
    a latency spike of the broker is matched with one (the file name is quoted: a ``:`` in
    the path would otherwise end it)."""
    return f'-Xlog:gc:file="{layout.gc_log}":time,uptime:{GC_LOG_ROTATION}'


def broker_argv(runtime: KafkaRuntime, layout: KafkaLayout, heap_opts: str | None) -> list[str]:
    return [
        *jvm_args(runtime, layout, heap_opts),
        gc_logging(layout),
        "kafka.Kafka",
        str(layout.properties),
    ]

"""The embedded Kafka's class-data-sharing archive: dumped by the first format run, mapped by
the JVMs after it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from infra.settings import load_settings
from infra.stack import kafka_broker
from infra.stack.kafka_runtime import KafkaRuntime, default_cache_dir, kafka_runtime

pytestmark = pytest.mark.skipif(
    os.environ.get("EMBEDDED_BROKER") == "tansu", reason="the archive is Apache Kafka's"
)


def _runtime_with_own_jar_folder(tmp_path: Path) -> KafkaRuntime:
    """The cached runtime, its jars linked into a folder of this test (so no archive yet)."""
    settings = load_settings()
    cached = kafka_runtime(
        settings.cache_dir or default_cache_dir(), settings.maven_repo_url, settings.java_home
    )
    jars = tmp_path / "kafka" / "jars"
    jars.mkdir(parents=True)
    for jar in cached.jar_dir.glob("*.jar"):
        (jars / jar.name).symlink_to(jar)
    return KafkaRuntime(cached.java, cached.java_version, jars)


async def test_the_first_format_dumps_a_class_archive_that_later_jvms_map(
    tmp_path: Path,
) -> None:
    """Formatting with no archive yet leaves one beside the jars (and no partial file), the
    archive of older jars deleted; a JVM started with it and -Xshare:on (which fails when
    the archive cannot be mapped) runs, and a second format maps it and still formats."""
    runtime = _runtime_with_own_jar_folder(tmp_path)
    archive = kafka_broker.class_archive(runtime)
    assert not archive.exists()
    stale = archive.with_name("classes-0123456789abcdef.jsa")
    stale.write_bytes(b"an archive of older jars")
    first = kafka_broker.KafkaLayout(tmp_path / "first")
    kafka_broker.write_config(first, "127.0.0.1", 19092, 19093)
    await kafka_broker.format_storage(runtime, first, None)
    assert first.formatted
    assert archive.exists()
    assert [p.name for p in archive.parent.iterdir() if p.name.startswith(archive.name)] == [
        archive.name
    ]
    assert not stale.exists()
    mapped = await asyncio.create_subprocess_exec(
        str(runtime.java), "-Xshare:on", f"-XX:SharedArchiveFile={archive}",
        "-cp", runtime.classpath, "kafka.tools.StorageTool", "random-uuid",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await mapped.communicate()
    assert mapped.returncode == 0, out.decode(errors="replace")
    second = kafka_broker.KafkaLayout(tmp_path / "second")
    kafka_broker.write_config(second, "127.0.0.1", 19094, 19095)
    argv = kafka_broker.jvm_args(runtime, second, None)
    assert f"-XX:SharedArchiveFile={archive}" in argv
    await kafka_broker.format_storage(runtime, second, None)
    assert second.formatted


def test_pruning_keeps_the_current_archive_and_dumps_in_progress(tmp_path: Path) -> None:
    """Only finished archives other than the current one go; a dump another JVM is still
    writing (its name has a suffix) and unrelated files stay."""
    current = tmp_path / "classes-00000000000000aa.jsa"
    old_kafka = tmp_path / "classes-00000000000000bb.jsa"
    other_java = tmp_path / "classes-00000000000000cc.jsa"
    in_progress = tmp_path / "classes-00000000000000dd.jsa.5f3e"
    unrelated = tmp_path / "kafka-4.1.1"
    for path in (current, old_kafka, other_java, in_progress):
        path.write_bytes(b"x")
    unrelated.mkdir()
    pruned = kafka_broker.prune_class_archives(current)
    assert sorted(pruned) == [old_kafka, other_java]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [current.name, in_progress.name, unrelated.name]
    )

"""Create or verify the catalog's topics, idempotently (``botctl topics ensure``).

Missing topics are created with the declared partitions and configs; existing ones are
verified (partition count, ``retention.ms``, ``cleanup.policy``) and any difference is
reported as a mismatch, never "fixed" silently: changing partitions re-maps keys and
shortening retention deletes history, so a human decides.

Careful with brokers that auto-create topics on a metadata request (Tansu does): only the
full topic list is asked for before creating, and only existing topics are described.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from events.catalog import TopicSpec, with_prefix

TOPIC_ALREADY_EXISTS: Final = 36
# What an unset topic config means on Apache Kafka (Tansu reports only configs that were set).
IMPLIED_CONFIGS: Final = {"cleanup.policy": "delete"}


@dataclass(frozen=True, slots=True)
class TopicMismatch:
    """An existing topic that differs from the catalog, or one that could not be created."""

    topic: str
    problem: str

    def __str__(self) -> str:
        return f"{self.topic}: {self.problem}"


@dataclass(slots=True)
class EnsureReport:
    """What ``ensure_topics`` did: created, verified as declared, or found different."""

    created: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    mismatches: list[TopicMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


async def ensure_topics(
    bootstrap_servers: str,
    topics: Sequence[TopicSpec[Any]],
    *,
    name_prefix: str = "",
    replication_factor: int = 1,
    request_timeout_ms: int = 30_000,
) -> EnsureReport:
    """Create the missing ``topics`` and verify the existing ones; see :class:`EnsureReport`.

    Running it twice creates nothing the second time. ``name_prefix`` is prepended to every
    name (tests, side-by-side environments).
    """
    specs = {s.name: s for s in (with_prefix(t, name_prefix) for t in topics)}
    report = EnsureReport()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=request_timeout_ms
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for name, s in specs.items() if name not in existing]
        to_verify = [name for name in specs if name in existing]
        if missing:
            answer = await admin.create_topics(
                [
                    NewTopic(
                        s.name,
                        s.partitions,
                        replication_factor,
                        topic_configs=s.configs(),
                    )
                    for s in missing
                ]
            )
            for name, code, message in _topic_errors(answer):
                if code == 0:
                    report.created.append(name)
                elif code == TOPIC_ALREADY_EXISTS:  # created concurrently by someone else
                    to_verify.append(name)
                else:
                    report.mismatches.append(
                        TopicMismatch(name, f"could not be created: error {code} {message}")
                    )
        if report.created:
            await _await_visible(admin, report.created, request_timeout_ms / 1000)
        if to_verify:
            await _verify(admin, [specs[n] for n in to_verify], report)
    finally:
        await admin.close()
    return report


async def _await_visible(admin: AIOKafkaAdminClient, names: list[str], timeout: float) -> None:
    """Wait until every created topic is in the broker's metadata with a leader for each
    partition: Apache Kafka answers CreateTopics before its metadata shows the topic, and a
    client starting in that gap would find no partitions."""
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        described = await admin.describe_topics(pending)
        ready = {
            t["topic"]
            for t in described
            if t.get("error_code", 0) == 0
            and t.get("partitions")
            and all(p.get("leader", -1) >= 0 for p in t["partitions"])
        }
        pending = [n for n in pending if n not in ready]
        if pending:
            await asyncio.sleep(0.05)


async def _verify(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec[Any]], report: EnsureReport
) -> None:
    described = {t["topic"]: t for t in await admin.describe_topics([s.name for s in specs])}
    answers = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, s.name, None) for s in specs]
    )
    configs: dict[str, dict[str, str]] = {}
    for answer in answers:
        for resource in answer.resources:
            _code, _msg, _type, name, entries = resource[:5]
            configs[name] = {e[0]: e[1] for e in entries}
    for spec in specs:
        problems: list[str] = []
        partitions = len(described.get(spec.name, {}).get("partitions", []))
        if partitions < spec.partitions:
            problems.append(
                f"has {partitions} partitions, fewer than the {spec.partitions} declared "
                "(add partitions with care: keys move)"
            )
        elif partitions > spec.partitions:
            problems.append(f"has {partitions} partitions, the catalog declares {spec.partitions}")
        actual = configs.get(spec.name, {})
        for name, wanted in spec.configs().items():
            value = actual.get(name) or IMPLIED_CONFIGS.get(name)
            if value != wanted:
                shown = "unset (broker default)" if value is None else repr(value)
                problems.append(f"{name} is {shown}, declared {wanted!r}")
        if problems:
            report.mismatches.extend(TopicMismatch(spec.name, p) for p in problems)
        else:
            report.verified.append(spec.name)


def _topic_errors(answer: Any) -> list[tuple[str, int, str | None]]:
    out: list[tuple[str, int, str | None]] = []
    for item in answer.topic_errors:
        name, code = item[0], item[1]
        message = item[2] if len(item) > 2 else None
        out.append((name, code, message))
    return out

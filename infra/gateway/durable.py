"""The gateway's one write path to the log: every record a handler writes goes through here.

:class:`DurablePublisher` wraps :class:`infra.kafka.publisher.EventPublisher` with the rule
every update source relies on: a write either returns once the broker has acknowledged every
record, or raises :class:`CommandNotDurable` within ``timeout`` seconds. The error router lets
that exception through (see :mod:`infra.gateway.errors`), so the update that caused the write
is not confirmed to Telegram (polling offset kept, webhook answered 500) and is delivered
again. A write that timed out may still land; its retry carries the same derived ids, which
consumers treat as duplicates. Routers never see the raw publisher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, Final, TypeVar

from events.catalog import TopicSpec
from events.envelope import Envelope, event_type
from infra.gateway.metrics import COMMANDS
from infra.kafka.publisher import EventPublisher

E = TypeVar("E", bound=Envelope)

DEFAULT_PUBLISH_TIMEOUT: Final = 10.0
"""Seconds a write on a request path may take before the update counts as not handled."""


class CommandNotDurable(Exception):
    """A command could not be written to the log; the update must not be confirmed."""


def _describe(items: Sequence[tuple[TopicSpec[Any], Envelope]]) -> str:
    return ", ".join(f"{event_type(type(record))} {record.id}" for _, record in items)


class DurablePublisher:
    """Publishes with a timeout; any failure becomes :class:`CommandNotDurable`."""

    def __init__(
        self, publisher: EventPublisher, *, timeout: float = DEFAULT_PUBLISH_TIMEOUT
    ) -> None:
        self._publisher = publisher
        self.timeout = timeout

    @property
    def topic_prefix(self) -> str:
        return self._publisher.topic_prefix

    async def publish(self, spec: TopicSpec[E], record: E) -> None:
        """Write one record; return once the broker has it."""
        await self._bounded(self._publisher.publish(spec, record), [(spec, record)])

    async def publish_all(self, items: Sequence[tuple[TopicSpec[Any], Envelope]]) -> None:
        """Write several records (in order per topic and key); return once all are durable."""
        await self._bounded(self._publisher.publish_all(items), items)

    async def _bounded(
        self, write: Awaitable[None], items: Sequence[tuple[TopicSpec[Any], Envelope]]
    ) -> None:
        try:
            await asyncio.wait_for(write, self.timeout)
        except Exception as exc:
            raise CommandNotDurable(f"{_describe(items)}: {exc!r}") from exc
        for _, record in items:
            COMMANDS.labels(type=event_type(type(record))).inc()

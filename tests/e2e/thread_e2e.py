"""Helpers of the thread worker end-to-end tests: publish commands, read the log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, THREAD_EVENTS, THREAD_INBOX
from events.thread import StopRequested, UserMessageReceived
from infra.kafka.compat import BrokerProfile
from infra.kafka.publisher import EventPublisher

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "thread"))

from thread_harness import (
    eventually,
    message_command,
    read_topic,
    starter_credit,
    stop_command,
)

__all__ = ["eventually", "message_command", "stop_command"]


async def fund(publisher: EventPublisher, user_id: int, balance: str = "1.00") -> None:
    await publisher.publish(BILLING_LEDGER, starter_credit(user_id, balance))


async def send(
    publisher: EventPublisher, chat_id: int, text: str, *, message_id: int, **kwargs: Any
) -> UserMessageReceived:
    command = message_command(chat_id, text, message_id=message_id, **kwargs)
    await publisher.publish(THREAD_INBOX, command)
    return command


async def stop(
    publisher: EventPublisher, chat_id: int, thread_id: int | None = None
) -> StopRequested:
    command = stop_command(chat_id, thread_id=thread_id)
    await publisher.publish(THREAD_INBOX, command)
    return command


async def events_of(bootstrap: str, profile: BrokerProfile, prefix: str, key: str) -> list[Any]:
    return [e for e in await read_topic(bootstrap, profile, THREAD_EVENTS, prefix) if e.key == key]


async def charges_of(
    bootstrap: str, profile: BrokerProfile, prefix: str, thread_key: str
) -> list[Any]:
    found = await read_topic(bootstrap, profile, BILLING_COMMANDS, prefix)
    return [c for c in found if c.thread_key == thread_key]

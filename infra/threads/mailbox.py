"""A thread's mailbox in this process: its queued inbox commands, its lock, the turn it runs
and the batching of an album's parts or a long text's continuation into one turn."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from events.catalog import ThreadInboxCommand
from events.messages import UserMessage
from events.thread import UserMessageReceived
from infra.threads.turn_state import TurnHandle

ALBUM_WAIT: Final = 0.3
SPLIT_TEXT_WAIT: Final = 0.25
SPLIT_TEXT_MIN_CHARS: Final = 3500


@dataclass(slots=True)
class InboxItem:
    command: ThreadInboxCommand
    partition: int
    ack: Callable[[], None]
    received_at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class Mailbox:
    key: str
    partition: int
    items: deque[InboxItem] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None
    turn: TurnHandle | None = None
    publishing: asyncio.Task[None] | None = None
    deferred_acks: list[Callable[[], None]] = field(default_factory=list)


async def more_of_batch(mailbox: Mailbox, first: InboxItem) -> list[InboxItem]:
    """Album parts (same media group) and a long text's continuation form one turn."""
    assert isinstance(first.command, UserMessageReceived)
    message = first.command.message
    if message.media_group_id:
        wait = ALBUM_WAIT
    elif len(message.text) >= SPLIT_TEXT_MIN_CHARS:
        wait = SPLIT_TEXT_WAIT
    else:
        return []
    batch: list[InboxItem] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    last = message
    while True:
        if mailbox.items:
            nxt = mailbox.items[0].command
            if not (isinstance(nxt, UserMessageReceived) and _continues(last, nxt.message)):
                return batch
            batch.append(mailbox.items.popleft())
            last = nxt.message
            deadline = loop.time() + wait
            continue
        remaining = deadline - loop.time()
        if remaining <= 0:
            return batch
        mailbox.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(mailbox.wakeup.wait(), remaining)


def _continues(previous: UserMessage, message: UserMessage) -> bool:
    if message.sender.user_id != previous.sender.user_id:
        return False
    if previous.media_group_id:
        return message.media_group_id == previous.media_group_id
    return len(previous.text) >= SPLIT_TEXT_MIN_CHARS and not message.media_group_id

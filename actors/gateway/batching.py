"""Which messages form one turn: split long pastes and albums arriving within ~200 ms.

Telegram clients split a long paste into several messages of up to 4096 characters and send
an album as one message per file (sharing ``media_group_id``). A message that *looks like a
part* (an album item, or a text at the split length) opens a batch; later messages from the
same user in the same thread join it while each arrives within ``window`` seconds of the
previous one. The batch closes when a message that does not look like a part joins (the
short tail of a split paste), when ``window`` passes without a new part, when it is
``max_hold`` seconds old, or when it has ``max_parts`` parts.

A part has two times: when its update arrived (``Part.arrived_at``, stamped by the source)
and when it is offered (``now``, the gateway's clock as it gets to it). A part joins when
either gap is within the window (a gateway that is slow to get through an album leaves its
arrival gaps small; a poll that brought two parts in separate answers leaves the offer gap
small), and never when the user sent the two more than ``window`` + 1 s apart (Telegram's
``date``, 1 s resolution: a backlog read at once does not merge a day's messages).
``max_hold`` runs from the batch's first offer.

Ordinary messages never wait: they form a batch of one at once, so the latency the window
adds falls only on albums and split pastes.

Pure: the caller passes the clock (``now``, seconds, any monotonic origin) and runs the
timer (:meth:`Batcher.next_deadline`, :meth:`Batcher.due`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, TypeAlias

import msgspec

from actors.telegram_text import utf16_len
from events.keys import thread_key
from events.messages import UserMessage

SPLIT_LENGTH: Final = 4096
"""Telegram's text limit: clients split longer pastes into parts of at most this length."""

BatchKey: TypeAlias = tuple[str, int]
"""(thread key, user id): one user's messages in one thread."""


@dataclass(frozen=True, slots=True)
class BatchConfig:
    window: float = 0.2
    max_hold: float = 2.0
    max_parts: int = 20
    split_hint: int = 3500
    """A text at least this long (UTF-16 units) may be the first part of a split paste."""


@dataclass(frozen=True, slots=True)
class Part:
    message: UserMessage
    update_id: int | None
    arrived_at: float


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages that form one turn, oldest first (a single ordinary message is a batch of one)."""

    key: BatchKey
    parts: tuple[Part, ...]

    @property
    def first(self) -> Part:
        return self.parts[0]

    def merged(self) -> UserMessage:
        return merge([p.message for p in self.parts])


@dataclass(slots=True)
class _Open:
    parts: list[Part]
    opened_at: float
    """When the first part was offered (``max_hold`` runs from it)."""
    last_at: float
    """When the last part arrived."""
    last_offered: float
    deadline: float = field(default=0.0)

    def joins(self, part: Part, now: float, config: BatchConfig) -> bool:
        """Whether ``part``, offered ``now``, continues this batch (see the module doc)."""
        sent_apart = abs((part.message.sent_at - self.parts[-1].message.sent_at).total_seconds())
        return sent_apart <= config.window + 1.0 and (
            part.arrived_at - self.last_at <= config.window
            or now - self.last_offered <= config.window
        )


def batch_key(message: UserMessage) -> BatchKey:
    return thread_key(message.chat_id, message.message_thread_id), message.sender.user_id


def looks_like_part(message: UserMessage, config: BatchConfig) -> bool:
    """Whether more of the same input may follow: an album item or a text at split length."""
    return message.media_group_id is not None or utf16_len(message.text) >= config.split_hint


def merge(messages: list[UserMessage]) -> UserMessage:
    """One message from several (ordered by message id): texts joined by a line break,
    attachments concatenated, the first reply/forward/album id kept, identity of the first."""
    ordered = sorted(messages, key=lambda m: m.message_id)
    first = ordered[0]
    if len(ordered) == 1:
        return first
    return msgspec.structs.replace(
        first,
        text="\n".join(m.text for m in ordered if m.text),
        attachments=tuple(a for m in ordered for a in m.attachments),
        reply_to=next((m.reply_to for m in ordered if m.reply_to is not None), None),
        forward_origin=next(
            (m.forward_origin for m in ordered if m.forward_origin is not None), None
        ),
        media_group_id=next(
            (m.media_group_id for m in ordered if m.media_group_id is not None), None
        ),
        merged_message_ids=tuple(m.message_id for m in ordered[1:]),
    )


class Batcher:
    """Open batches by (thread, user); every method returns the batches to send now, in order."""

    def __init__(self, config: BatchConfig | None = None) -> None:
        self.config = config or BatchConfig()
        self._open: dict[BatchKey, _Open] = {}

    def offer(self, part: Part, now: float | None = None) -> list[Batch]:
        """Add a message, offered ``now`` (default: when it arrived); returns the batches
        that are complete now (possibly none)."""
        now = part.arrived_at if now is None else now
        key = batch_key(part.message)
        out: list[Batch] = []
        current = self._open.get(key)
        is_part = looks_like_part(part.message, self.config)
        if current is not None:
            if current.joins(part, now, self.config):
                current.parts.append(part)
                current.last_at = max(current.last_at, part.arrived_at)
                current.last_offered = now
                current.deadline = self._deadline(current)
                if not is_part or self._full(current, now):
                    out.append(self._close(key))
                return out
            out.append(self._close(key))  # the timer was late: close it before the newcomer
        if is_part:
            opened = _Open([part], opened_at=now, last_at=part.arrived_at, last_offered=now)
            opened.deadline = self._deadline(opened)
            self._open[key] = opened
        else:
            out.append(Batch(key, (part,)))
        return out

    def due(self, now: float) -> list[Batch]:
        """Close the batches whose deadline has passed."""
        keys = [k for k, b in self._open.items() if b.deadline <= now]
        return [self._close(k) for k in keys]

    def due_keys(self, now: float) -> list[BatchKey]:
        """The open batches whose deadline has passed (close each with :meth:`close_due`)."""
        return [k for k, b in self._open.items() if b.deadline <= now]

    def close_due(self, key: BatchKey, now: float) -> Batch | None:
        """Close one batch if its deadline has passed (it may have been closed meanwhile)."""
        current = self._open.get(key)
        if current is None or current.deadline > now:
            return None
        return self._close(key)

    def chat_of(self, key: BatchKey) -> int | None:
        """The chat of an open batch (None: closed)."""
        current = self._open.get(key)
        return None if current is None else current.parts[0].message.chat_id

    def held_out(self, key: BatchKey, now: float) -> bool:
        """Whether an open batch has waited its ``max_hold`` (closed then, whatever comes)."""
        current = self._open.get(key)
        return current is None or now - current.opened_at >= self.config.max_hold

    def flush_thread(self, thread: str) -> list[Batch]:
        """Close every batch of a thread now (before a command or an edit for it)."""
        keys = [k for k in self._open if k[0] == thread]
        return [self._close(k) for k in keys]

    def flush_all(self) -> list[Batch]:
        return [self._close(k) for k in list(self._open)]

    def next_deadline(self) -> float | None:
        return min((b.deadline for b in self._open.values()), default=None)

    @property
    def open_keys(self) -> list[BatchKey]:
        return list(self._open)

    @property
    def pending_parts(self) -> int:
        return sum(len(b.parts) for b in self._open.values())

    def _deadline(self, batch: _Open) -> float:
        last = max(batch.last_at, batch.last_offered)
        return min(last + self.config.window, batch.opened_at + self.config.max_hold)

    def _full(self, batch: _Open, now: float) -> bool:
        return (
            len(batch.parts) >= self.config.max_parts
            or now - batch.opened_at >= self.config.max_hold
        )

    def _close(self, key: BatchKey) -> Batch:
        batch = self._open.pop(key)
        return Batch(key, tuple(batch.parts))

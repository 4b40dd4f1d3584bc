"""When to send a streaming draft: about one per second per chat, honouring retry_after.

Drafts are previews, so skipping one loses nothing: the gate answers "not now" and the next
token re-asks. The gate is per chat (several threads of one chat share Telegram's limit).
Pure: the caller passes the monotonic time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

DRAFT_INTERVAL: Final = 1.0
SWEEP_AT: Final = 256
"""Chats remembered before idle ones are swept (then twice as many as remain)."""
IDLE_AFTER: Final = 60.0


@dataclass(slots=True)
class ChatGate:
    next_at: float = 0.0


@dataclass(slots=True)
class DraftGate:
    """Per-chat schedule of the next allowed draft."""

    interval: float = DRAFT_INTERVAL
    chats: dict[int, ChatGate] = field(default_factory=dict)
    sweep_at: int = SWEEP_AT

    def may_send(self, chat_id: int, now: float) -> bool:
        gate = self.chats.get(chat_id)
        return gate is None or now >= gate.next_at

    def sent(self, chat_id: int, now: float) -> None:
        self._gate(chat_id, now).next_at = now + self.interval

    def retry_after(self, chat_id: int, now: float, seconds: float) -> None:
        """Telegram answered 429: nothing before ``seconds`` from now (and the interval)."""
        gate = self._gate(chat_id, now)
        gate.next_at = max(gate.next_at, now + max(seconds, self.interval))

    def _gate(self, chat_id: int, now: float) -> ChatGate:
        """The chat's gate; a new chat first sweeps idle ones when many are remembered, so
        a worker's gate holds the chats of the last minute, not every chat ever served."""
        gate = self.chats.get(chat_id)
        if gate is None:
            if len(self.chats) >= self.sweep_at:
                self.forget_idle(now, IDLE_AFTER)
                self.sweep_at = max(SWEEP_AT, 2 * len(self.chats))
            gate = self.chats[chat_id] = ChatGate()
        return gate

    def wait_time(self, chat_id: int, now: float) -> float:
        gate = self.chats.get(chat_id)
        return 0.0 if gate is None else max(0.0, gate.next_at - now)

    def forget_idle(self, now: float, idle: float = IDLE_AFTER) -> None:
        for chat_id in [c for c, g in self.chats.items() if g.next_at < now - idle]:
            del self.chats[chat_id]


def draft_id_for(turn_id: str) -> int:
    """A stable, non-zero 31-bit draft id for a turn (changes to one draft are animated)."""
    value = int(turn_id.replace("-", "")[-8:], 16) & 0x7FFFFFFF
    return value or 1

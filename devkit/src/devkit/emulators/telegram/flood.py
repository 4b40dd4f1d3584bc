"""Telegram flood control: per-chat and per-bot message budgets, answering retry_after.

Telegram's documented guidance: about one message per second in a private chat (short bursts
are tolerated), at most 20 messages per minute in a group, about 30 messages per second
overall. The limiter is pure: it takes the current time as an argument.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class FloodConfig:
    """Tunable limits; `enabled=False` turns flood control off."""

    enabled: bool = True
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    bot_per_second: int = 30
    # Bot API methods (lower-case) that count as sending a message
    methods: frozenset[str] = frozenset(
        {
            "sendmessage",
            "sendphoto",
            "senddocument",
            "sendvoice",
            "sendmediagroup",
            "editmessagetext",
            "sendinvoice",
        }
    )


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(slots=True)
class FloodLimiter:
    """Decides whether a message may go out now; `check` returns seconds to wait or 0."""

    config: FloodConfig = field(default_factory=FloodConfig)
    _private: dict[tuple[str, int], _Bucket] = field(default_factory=dict)
    _groups: dict[tuple[str, int], deque[float]] = field(default_factory=dict)
    _global: dict[str, deque[float]] = field(default_factory=dict)

    def reset(self) -> None:
        self._private.clear()
        self._groups.clear()
        self._global.clear()

    def check(self, token: str, chat_id: int, is_private: bool, now: float, cost: int = 1) -> int:
        """Consume `cost` messages for this chat, or return retry_after (whole seconds >= 1)."""
        cfg = self.config
        if not cfg.enabled:
            return 0
        wait = self._global_wait(token, now, cost)
        if is_private:
            wait = max(wait, self._private_wait(token, chat_id, now, cost))
        else:
            wait = max(wait, self._group_wait(token, chat_id, now, cost))
        if wait > 0:
            return max(1, math.ceil(wait))
        self._consume(token, chat_id, is_private, now, cost)
        return 0

    def _private_wait(self, token: str, chat_id: int, now: float, cost: int) -> float:
        cfg = self.config
        bucket = self._private.get((token, chat_id))
        if bucket is None:
            return (
                0.0
                if cost <= cfg.private_burst
                else (cost - cfg.private_burst) / cfg.private_per_second
            )
        tokens = min(
            float(cfg.private_burst),
            bucket.tokens + (now - bucket.updated) * cfg.private_per_second,
        )
        if tokens >= cost:
            return 0.0
        return (cost - tokens) / cfg.private_per_second

    def _group_wait(self, token: str, chat_id: int, now: float, cost: int) -> float:
        window = self._groups.get((token, chat_id))
        return _window_wait(window, now, 60.0, self.config.group_per_minute, cost)

    def _global_wait(self, token: str, now: float, cost: int) -> float:
        return _window_wait(self._global.get(token), now, 1.0, self.config.bot_per_second, cost)

    def _consume(self, token: str, chat_id: int, is_private: bool, now: float, cost: int) -> None:
        cfg = self.config
        if is_private:
            bucket = self._private.get((token, chat_id))
            if bucket is None:
                self._private[(token, chat_id)] = _Bucket(float(cfg.private_burst - cost), now)
            else:
                bucket.tokens = (
                    min(
                        float(cfg.private_burst),
                        bucket.tokens + (now - bucket.updated) * cfg.private_per_second,
                    )
                    - cost
                )
                bucket.updated = now
        else:
            self._groups.setdefault((token, chat_id), deque()).extend([now] * cost)
        self._global.setdefault(token, deque()).extend([now] * cost)


def _window_wait(
    window: deque[float] | None, now: float, span: float, limit: int, cost: int
) -> float:
    if window is None:
        return 0.0 if cost <= limit else span
    while window and window[0] <= now - span:
        window.popleft()
    if len(window) + cost <= limit:
        return 0.0
    # wait until enough old sends leave the window
    index = len(window) + cost - limit - 1
    if index >= len(window):
        return span
    return window[index] + span - now

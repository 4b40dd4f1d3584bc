"""The send window: at most ``limit`` sends start in any ``window`` seconds, and none while
Telegram asked to wait (a 429's ``retry_after``, which holds for the whole bot).

Pure: the caller passes the time. :meth:`SendWindow.wait` says how long until the next send
may start; :meth:`SendWindow.take` records a send starting now. A sliding window (the start
times of the last ``limit`` sends), not a token bucket: a token bucket lets a full burst
through after an idle spell and then ``limit`` more within the same second.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

_SLACK = 1e-9
"""Float rounding a caller's ``now + wait(now)`` may be short by."""


@dataclass(slots=True)
class SendWindow:
    limit: int
    window: float = 1.0
    paused_until: float = 0.0
    _starts: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError("a send window needs limit >= 1 and window > 0")

    def wait(self, now: float) -> float:
        """Seconds until a send may start (0: now)."""
        delay = max(0.0, self.paused_until - now)
        if len(self._starts) >= self.limit:
            delay = max(delay, self._starts[-self.limit] + self.window - now)
        return delay

    def take(self, now: float) -> None:
        """A send starts at ``now`` (the caller waited :meth:`wait` first)."""
        if self.wait(now) > _SLACK:
            raise ValueError(f"a send at {now} would break the window")
        self._starts.append(now)
        while len(self._starts) > self.limit:
            self._starts.popleft()

    def pause(self, now: float, retry_after: float) -> None:
        """Telegram answered 429 with ``retry_after``: no send before ``now + retry_after``."""
        self.paused_until = max(self.paused_until, now + retry_after)

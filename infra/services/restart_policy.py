"""When a supervised service that exited on its own is started again, and when to give up.

Pure: the supervisor feeds it the times of a service's exits and acts on the answer.

* Every unexpected exit is followed by a restart after a backoff that doubles from
  ``first_delay`` up to ``max_delay``; a service that then ran for ``stable_after`` seconds
  starts over at ``first_delay``.
* A service that exits ``max_exits`` times within ``window`` seconds is crash-looping: the
  supervisor stops the whole bot with a message naming it, because restarting a service
  that cannot start only hides the failure.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    max_exits: int = 5
    window: float = 60.0
    first_delay: float = 0.5
    max_delay: float = 15.0
    stable_after: float = 30.0


@dataclass(frozen=True, slots=True)
class Restart:
    """Start the service again after ``delay`` seconds."""

    delay: float


@dataclass(frozen=True, slots=True)
class GiveUp:
    """The service is crash-looping: stop the bot."""

    reason: str


@dataclass(slots=True)
class ExitHistory:
    """The recent exits of one service and the backoff reached."""

    policy: RestartPolicy
    exits: deque[float] = field(default_factory=deque)
    next_delay: float = 0.0

    def on_exit(self, name: str, *, started_at: float, now: float) -> Restart | GiveUp:
        """Record an exit at ``now`` of a run that began at ``started_at``; decide."""
        policy = self.policy
        self.exits.append(now)
        while self.exits and self.exits[0] <= now - policy.window:
            self.exits.popleft()
        if len(self.exits) >= policy.max_exits:
            return GiveUp(
                f"service {name} exited {len(self.exits)} times within "
                f"{policy.window:g} s; stopping the bot"
            )
        if self.next_delay == 0.0 or now - started_at >= policy.stable_after:
            self.next_delay = policy.first_delay
        else:
            self.next_delay = min(self.next_delay * 2, policy.max_delay)
        return Restart(self.next_delay)

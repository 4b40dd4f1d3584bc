"""At most N concurrent generations per user, across threads and workers.

A user's threads hash to different partitions, hence possibly different workers, so no one
actor sees all of a user's running turns. The limit is a counting semaphore of N slot keys
per user in Redis, ``{prefix}{user}:{slot}``: a turn takes a slot with one atomic
``SET key turn_id NX EX ttl`` (no lock, no read-modify-write), keeps it alive while it runs
and deletes it when it ends (one compare-and-delete script, one round trip). A worker
killed mid-turn leaks its slot for at most the TTL; a resumed turn re-takes its own slot
(same turn id). This worker's own record of the slots it holds expires the same way: a turn
that never finishes here (its partition revoked, its task cancelled before the release)
stops counting after the TTL unless refreshed, and is then forgotten.

Redis is an accelerator: when it is unreachable, each worker counts its own running turns
(exact per worker, so the global bound becomes N per worker until Redis is back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

DEFAULT_TTL: Final = 300
QUEUE_POLL: Final = 1.0
"""How often a queued turn retries a slot (a release on another worker is not signalled)."""
_RELEASE: Final = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
"""


class GenerationSlots:
    def __init__(
        self,
        redis: Redis | None,
        *,
        limit: int = 5,
        ttl: int = DEFAULT_TTL,
        prefix: str = "cg:gen:",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.limit = limit
        self.ttl = ttl
        self.prefix = prefix
        self.clock = clock
        self._local: dict[int, dict[str, int | None]] = {}  # user -> turn -> slot (None: local)
        self._expires: dict[str, float] = {}  # turn -> when its slot lapses unless refreshed
        self._released = asyncio.Event()  # set on every release here: wakes queued turns

    def _mine(self, user_id: int) -> dict[str, int | None]:
        """The user's turns holding a slot here, without those whose TTL has passed."""
        mine = self._local.setdefault(user_id, {})
        now = self.clock()
        for turn_id in [t for t in mine if self._expires.get(t, now) < now]:
            del mine[turn_id]
            self._expires.pop(turn_id, None)
        return mine

    def sweep(self) -> None:
        """Forget every lapsed slot (users who never come back included)."""
        for user_id in list(self._local):
            if not self._mine(user_id):
                del self._local[user_id]

    def _key(self, user_id: int, slot: int) -> str:
        return f"{self.prefix}{user_id}:{slot}"

    async def acquire(self, user_id: int, turn_id: str) -> bool:
        """Take a slot for ``turn_id``; False when the user already runs ``limit`` turns."""
        if len(self._expires) > 4 * max(1, len(self._local)) + 1024:
            self.sweep()
        mine = self._mine(user_id)
        if turn_id in mine:
            self._expires[turn_id] = self.clock() + self.ttl
            return True
        if self.redis is not None:
            try:
                slot = await self._acquire_redis(user_id, turn_id)
            except (RedisError, OSError) as exc:
                log.warning("redis unavailable for generation slots: %s", exc)
            else:
                if slot is None:
                    return False
                mine[turn_id] = slot
                self._expires[turn_id] = self.clock() + self.ttl
                return True
        if len(mine) >= self.limit:
            return False
        mine[turn_id] = None
        self._expires[turn_id] = self.clock() + self.ttl
        return True

    async def wait_for_slot(
        self,
        user_id: int,
        turn_id: str,
        *,
        max_wait: float,
        give_up: Callable[[], bool] = lambda: False,
        poll: float = QUEUE_POLL,
    ) -> bool:
        """Take a slot, waiting in line up to ``max_wait`` seconds for one to free up.

        Woken at once by a release on this worker, and every ``poll`` seconds otherwise (a
        release on another worker); False after ``max_wait`` or when ``give_up()`` says so.
        """
        deadline = self.clock() + max_wait
        while True:
            if await self.acquire(user_id, turn_id):
                return True
            remaining = deadline - self.clock()
            if remaining <= 0 or give_up():
                return False
            self._released.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), min(poll, remaining))

    async def _acquire_redis(self, user_id: int, turn_id: str) -> int | None:
        assert self.redis is not None
        for slot in range(self.limit):
            key = self._key(user_id, slot)
            if await self.redis.set(key, turn_id, nx=True, ex=self.ttl):
                return slot
            holder = await self.redis.get(key)
            if holder is not None and _text(holder) == turn_id:
                await self.redis.expire(key, self.ttl)
                return slot
        return None

    async def refresh(self, user_id: int, turn_id: str) -> None:
        """Keep a long turn's slot alive (call well within the TTL)."""
        if turn_id in self._local.get(user_id, {}):
            self._expires[turn_id] = self.clock() + self.ttl
        slot = self._local.get(user_id, {}).get(turn_id)
        if slot is None or self.redis is None:
            return
        try:
            await self.redis.expire(self._key(user_id, slot), self.ttl)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable for generation slots: %s", exc)

    async def release(self, user_id: int, turn_id: str) -> None:
        try:
            await self._release(user_id, turn_id)
        finally:
            self._released.set()

    async def _release(self, user_id: int, turn_id: str) -> None:
        mine = self._local.get(user_id, {})
        slot = mine.pop(turn_id, None)
        self._expires.pop(turn_id, None)
        if not mine:
            self._local.pop(user_id, None)
        if self.redis is None:
            return
        try:
            slots = [slot] if slot is not None else list(range(self.limit))
            keys = [self._key(user_id, index) for index in slots]
            # delete only the keys this turn holds, in one round trip (compare-and-delete)
            await self.redis.eval(_RELEASE, len(keys), *keys, turn_id)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable for generation slots: %s", exc)

    def running_here(self, user_id: int) -> int:
        return len(self._mine(user_id)) if user_id in self._local else 0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

"""At most N concurrent generations per user, across threads and workers.

A user's threads hash to different partitions, hence possibly different workers, so no one
actor sees all of a user's running turns. The limit is a counting semaphore of N slot keys
per user in Redis, ``{prefix}{user}:{slot}``: a turn takes a slot with one atomic
``SET key turn_id NX EX ttl`` (no lock, no read-modify-write), keeps it alive while it runs
and deletes it when it ends (one compare-and-delete script, one round trip). A worker
killed mid-turn leaks its slot for at most the TTL; a resumed turn re-takes its own slot
(same turn id).

Redis is an accelerator: when it is unreachable, each worker counts its own running turns
(exact per worker, so the global bound becomes N per worker until Redis is back).
"""

from __future__ import annotations

import logging
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

DEFAULT_TTL: Final = 300
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
    ) -> None:
        self.redis = redis
        self.limit = limit
        self.ttl = ttl
        self.prefix = prefix
        self._local: dict[int, dict[str, int | None]] = {}  # user -> turn -> slot (None: local)

    def _key(self, user_id: int, slot: int) -> str:
        return f"{self.prefix}{user_id}:{slot}"

    async def acquire(self, user_id: int, turn_id: str) -> bool:
        """Take a slot for ``turn_id``; False when the user already runs ``limit`` turns."""
        mine = self._local.setdefault(user_id, {})
        if turn_id in mine:
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
                return True
        if len(mine) >= self.limit:
            return False
        mine[turn_id] = None
        return True

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
        slot = self._local.get(user_id, {}).get(turn_id)
        if slot is None or self.redis is None:
            return
        try:
            await self.redis.expire(self._key(user_id, slot), self.ttl)
        except (RedisError, OSError) as exc:
            log.warning("redis unavailable for generation slots: %s", exc)

    async def release(self, user_id: int, turn_id: str) -> None:
        mine = self._local.get(user_id, {})
        slot = mine.pop(turn_id, None)
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
        return len(self._local.get(user_id, {}))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

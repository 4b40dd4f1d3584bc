"""In-memory fakes of production stores, for tests and benchmarks."""

from __future__ import annotations

from infra.threads.state_log import StateLog
from infra.threads.store_port import StoredThread


class MemoryThreadStore:
    """The in-memory fake of the thread table (``infra.threads.table_store.ChangelogStore``): the
    same snapshot + delta values, no durability."""

    def __init__(self, values: dict[bytes, bytes] | None = None) -> None:
        self.values: dict[bytes, bytes] = {} if values is None else values
        self.log = StateLog(self.values)
        self.saves = 0

    def load(self, key: str) -> StoredThread | None:
        return self.log.load(key)

    async def save(self, key: str, partition: int, stored: StoredThread) -> None:
        await self.log.save(key, stored, _no_write)
        self.saves += 1

    def save_local(self, key: str, stored: StoredThread) -> None:
        self.log.save_local(key, stored)

    def restarted(self) -> MemoryThreadStore:
        """A store over the same values with nothing decoded (a restarted worker)."""
        return MemoryThreadStore(self.values)


async def _no_write(key: bytes, value: bytes) -> None:
    return None

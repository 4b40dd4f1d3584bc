"""Where each user's entry of a thread-worker view (:mod:`infra.threads.log_views`) stands in
the log, in order of last use, and the eviction that keeps a view within its bound: only
entries the read model covers go, least recently used first."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final, Protocol

UNKNOWN: Final = -1  # the offset of a value read from nowhere
MAX_USERS: Final = 50_000
"""Entries per view beyond which covered ones are evicted (see :mod:`infra.threads.log_views`)."""
FROM_READ_MODEL: Final = -2  # the partition of an entry read from the read model


class Covered(Protocol):
    """Whether the read model holds a view's record at ``offset`` of ``partition``."""

    def __call__(self, partition: int, offset: int) -> bool: ...


class UserEntries:
    """Where each user's entry of a view stands in the log, in order of last use: what
    :meth:`evict` needs to keep the view within ``max_users`` (see the module docstring)."""

    def __init__(self, max_users: int = MAX_USERS) -> None:
        self.max_users = max_users
        self._at: dict[int, tuple[int, int]] = {}
        """user -> (partition, offset) of the record the entry reflects; an entry read from
        the read model has partition FROM_READ_MODEL and the row's offset."""

    def __len__(self) -> int:
        return len(self._at)

    def offset(self, user_id: int) -> int:
        found = self._at.get(user_id)
        return UNKNOWN if found is None else found[1]

    def seen(self, user_id: int, partition: int, offset: int) -> None:
        self._at.pop(user_id, None)
        self._at[user_id] = (partition, offset)

    def standing(self) -> dict[int, tuple[int, int]]:
        """Each entry's (partition, offset), least recently used first."""
        return dict(self._at)

    def used(self, user_id: int) -> None:
        found = self._at.pop(user_id, None)
        if found is not None:
            self._at[user_id] = found

    def evict(self, covered: Covered, values: MutableMapping[int, Any]) -> int:
        """Forget the least recently used covered entries beyond ``max_users`` (and their
        ``values``); how many were forgotten."""
        excess = len(self._at) - self.max_users
        gone: list[int] = []
        for user_id, (partition, offset) in self._at.items():
            if len(gone) >= excess:
                break
            in_tail = partition >= 0 and offset != UNKNOWN
            if partition == FROM_READ_MODEL or (in_tail and covered(partition, offset)):
                gone.append(user_id)
        for user_id in gone:
            del self._at[user_id]
            values.pop(user_id, None)
        return len(gone)

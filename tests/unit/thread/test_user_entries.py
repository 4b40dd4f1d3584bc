"""The bound of the thread worker's user views (infra.threads.user_entries)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infra.threads.user_entries import FROM_READ_MODEL, UNKNOWN, UserEntries

# (user, partition, offset): partition FROM_READ_MODEL is a row of the read model
SEEN = st.tuples(
    st.integers(0, 30),
    st.sampled_from([FROM_READ_MODEL, UNKNOWN, 0, 1]),
    st.integers(UNKNOWN, 50),
)


@given(
    seen=st.lists(SEEN, max_size=60),
    used=st.lists(st.integers(0, 30), max_size=20),
    max_users=st.integers(0, 10),
    position=st.integers(0, 60),
)
def test_eviction_keeps_the_bound_with_only_covered_entries_gone(
    seen: list[tuple[int, int, int]], used: list[int], max_users: int, position: int
) -> None:
    """Eviction goes down to the bound, least recently used first, and never forgets an
    entry the read model does not cover (a tail record at or past the projector)."""
    entries = UserEntries(max_users)
    values: dict[int, str] = {}
    for user, partition, offset in seen:
        entries.seen(user, partition, offset)
        values[user] = "v"
    for user in used:
        entries.used(user)
    before = list(entries.standing().items())

    def covered(partition: int, offset: int) -> bool:
        return offset < position

    def evictable(where: tuple[int, int]) -> bool:
        partition, offset = where
        in_tail = partition >= 0 and offset != UNKNOWN
        return partition == FROM_READ_MODEL or (in_tail and covered(partition, offset))

    evicted = entries.evict(covered, values)
    after = entries.standing()
    gone = [user for user, where in before if user not in after]
    assert evicted == len(gone)
    assert all(evictable(where) for user, where in before if user in gone)
    assert set(values) == set(after)
    candidates = [user for user, where in before if evictable(where)]
    assert gone == candidates[: max(0, len(before) - max_users)]
    assert len(after) <= max_users or all(not evictable(after[u]) for u in after)

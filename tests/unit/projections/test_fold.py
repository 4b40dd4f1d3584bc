"""The replay fold gives exactly the rows of the live fold (Changes) for any log."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.scenario import Scenario
from projections.catalog import PROJECTIONS
from projections.changes import Changes
from projections.fold import RowFold
from projections.rows import Patch, RowOp
from projections.source import Source
from projections.tables import CHATS, TABLES, USERS


def _ops(seed: int, count: int, partitions: int) -> list[RowOp]:
    offsets: dict[tuple[str, int], int] = {}
    out: list[RowOp] = []
    for spec, record in Scenario(seed, users=15).records(count):
        partition = hash(record.key) % partitions
        offset = offsets.get((spec.name, partition), 0)
        offsets[(spec.name, partition)] = offset + 1
        src = Source(spec.name, partition, offset)
        for projection in PROJECTIONS.values():
            if spec in projection.topics:
                out.extend(projection.ops(record, src))
    return out


def _changes_rows(ops: list[RowOp]) -> dict[str, list[tuple[Any, ...]]]:
    changes = Changes(TABLES.values())
    changes.apply_all(ops)
    return {
        name: sorted((table.as_tuple(r) for r in changes.rows(name)), key=repr)
        for name, table in TABLES.items()
    }


def _fold_rows(fold: RowFold) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(fold.rows(name), key=repr) for name in TABLES}


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(1, 600),
    partitions=st.integers(1, 4),
    redeliver=st.booleans(),
)
def test_row_fold_equals_changes(seed: int, count: int, partitions: int, redeliver: bool) -> None:
    """Same operations (optionally every one applied twice) give the same whole rows."""
    ops = _ops(seed, count, partitions)
    if redeliver:
        ops = [op for op in ops for _ in (0, 1)]
    fold = RowFold(TABLES.values())
    fold.apply(ops)
    assert _fold_rows(fold) == _changes_rows(ops)


def test_merge_rules_and_guards_match_changes() -> None:
    """Unguarded merges (min/max/or, NULLs) and stale guarded patches fold the same way."""
    ops: list[RowOp] = [
        Patch(CHATS.name, "merge", (1,), {"chat_type": "group", "is_forum": None}, None),
        Patch(CHATS.name, "merge", (1,), {"chat_type": "private", "is_forum": True}, None),
        Patch(CHATS.name, "merge", (1,), {"first_seen_at": 5, "is_forum": False}, None),
        Patch(CHATS.name, "merge", (1,), {"first_seen_at": 3}, None),
        Patch(USERS.name, "profile", (7,), {"first_name": "a"}, 10),
        Patch(USERS.name, "profile", (7,), {"first_name": "stale"}, 9),
        Patch(USERS.name, "balance", (7,), {"balance": 1}, 2),
        Patch(USERS.name, "profile", (8,), {"first_name": "b"}, 1),
    ]
    fold = RowFold([CHATS, USERS])
    fold.apply(ops)
    changes = Changes([CHATS, USERS])
    changes.apply_all(ops)
    for table in (CHATS, USERS):
        expected = sorted((table.as_tuple(r) for r in changes.rows(table.name)), key=repr)
        assert sorted(fold.rows(table.name), key=repr) == expected

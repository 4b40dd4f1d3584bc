"""Folding row operations: redelivery changes nothing; batches fold like one big run."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.scenario import Scenario
from projections.catalog import PROJECTIONS
from projections.changes import Changes
from projections.rows import Patch, RowOp
from projections.source import Source
from projections.tables import CHATS, TABLES


def _stream(seed: int, count: int) -> list[tuple[str, Any, Source]]:
    """A scenario as (projection name, record, source) with per-partition offsets."""
    offsets: dict[tuple[str, int], int] = {}
    out = []
    for spec, record in Scenario(seed, users=20).records(count):
        partition = hash(record.key) % 3
        offset = offsets.get((spec.name, partition), 0)
        offsets[(spec.name, partition)] = offset + 1
        src = Source(spec.name, partition, offset)
        for projection in PROJECTIONS.values():
            if spec in projection.topics:
                out.append((projection.name, record, src))
    return out


def _ops(stream: list[tuple[str, Any, Source]]) -> list[RowOp]:
    return [op for name, rec, src in stream for op in PROJECTIONS[name].ops(rec, src)]


def _snapshot(changes: Changes) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: sorted((table.as_tuple(row) for row in changes.rows(name)), key=lambda t: repr(t))
        for name, table in TABLES.items()
    }


def _flush_into(store: Changes, batch: Changes) -> None:
    """Apply a batch's net effect as the database would: each merged patch is one upsert."""
    for rows in batch.inserts.values():
        for row in rows.values():
            store.apply_all([_insert(row, batch, rows)])
    for (table, group), merged in batch.patches.items():
        for key, patch in merged.items():
            store.apply(Patch(table, group, key, dict(patch.values), patch.version))


def _insert(row: dict[str, Any], batch: Changes, rows: Any) -> RowOp:
    from projections.rows import Insert

    table = next(n for n, r in batch.inserts.items() if r is rows)
    return Insert(table, row)


STREAM = _stream(7, 1500)
OPS = _ops(STREAM)


def test_redelivered_records_change_nothing() -> None:
    """Applying every record twice (a redelivered batch) gives the same rows as once."""
    once = Changes(TABLES.values())
    once.apply_all(OPS)
    twice = Changes(TABLES.values())
    half = len(OPS) // 2
    twice.apply_all(OPS[:half])
    twice.apply_all(OPS[: half // 2])  # a redelivery of an applied prefix
    twice.apply_all(OPS[half:])
    assert _snapshot(twice) == _snapshot(once)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(OPS)), max_size=12))
def test_batches_fold_like_one_run(cuts: list[int]) -> None:
    """Cutting the stream into batches (each flushed as merged upserts) changes no row."""
    whole = Changes(TABLES.values())
    whole.apply_all(OPS)
    store = Changes(TABLES.values())
    bounds = [0, *sorted(cuts), len(OPS)]
    for start, end in itertools.pairwise(bounds):
        batch = Changes(TABLES.values())
        batch.apply_all(OPS[start:end])
        _flush_into(store, batch)
    assert _snapshot(store) == _snapshot(whole)


@given(st.permutations(list(range(6))))
def test_chat_merges_commute(order: list[int]) -> None:
    """Chats are written from many partitions: their merges give one result in any order."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    ops = [
        Patch(
            CHATS.name,
            "merge",
            (-100,),
            {
                "chat_type": "supergroup",
                "is_forum": i == 3,
                "first_seen_at": t0 + timedelta(minutes=i),
            },
            None,
        )
        for i in range(6)
    ]
    changes = Changes([CHATS])
    changes.apply_all(ops[i] for i in order)
    (row,) = changes.rows("chats")
    assert row == {
        "chat_id": -100,
        "chat_type": "supergroup",
        "is_forum": True,
        "first_seen_at": t0,
    }


def test_ledger_chain_in_scenario_is_consistent() -> None:
    """The scenario's ledger chains balance_after per user (what verify checks)."""
    balances: dict[int, Any] = {}
    for _, record, src in STREAM:
        if src.topic != "bot.billing.ledger" or _ != "ledger":
            continue
        previous = balances.get(record.user_id, 0)
        assert record.balance_after == previous + record.amount
        balances[record.user_id] = record.balance_after

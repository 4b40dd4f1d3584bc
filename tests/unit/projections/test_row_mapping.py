"""Pure row mapping: every record type maps to rows of declared tables and columns."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from events.catalog import TOPICS
from events.samples import SAMPLE_KEYS, sample
from events.thread import TurnCompleted
from projections.catalog import PROJECTIONS, input_topics, select
from projections.changes import Changes
from projections.rows import Insert, Patch
from projections.source import Source
from projections.tables import MESSAGES, TABLES
from projections.turns import turn_completed

ALL_RECORDS = [(spec, cls) for spec in TOPICS for cls in spec.record_types]


@pytest.mark.parametrize(("spec", "cls"), ALL_RECORDS, ids=[c.__name__ for _, c in ALL_RECORDS])
def test_every_record_maps_to_declared_columns(spec: Any, cls: Any) -> None:
    """Each projection's ops for a sample record name declared tables, groups and columns."""
    record = sample(cls, key=SAMPLE_KEYS[spec.key_kind])
    for projection in PROJECTIONS.values():
        if spec not in projection.topics:
            continue
        owned = {t.name for t in projection.tables}
        for op in projection.ops(record, Source(spec.name, 3, 17)):
            assert op.table in owned, (projection.name, op.table)
            table = TABLES[op.table]
            if isinstance(op, Insert):
                assert table.append_only
                assert set(op.row) <= set(table.columns), set(op.row) - set(table.columns)
                assert all(op.row.get(k) is not None for k in table.key)
            else:
                assert isinstance(op, Patch)
                group = table.group(op.group)
                assert set(op.values) <= set(table.columns)
                assert not set(op.values) & set(table.key)
                assert (op.version is None) == (group.guard is None)
                assert len(op.key) == len(table.key)


def test_each_table_has_one_owner() -> None:
    """No table is written by two projections (so each can be rebuilt and swapped alone)."""
    owners: dict[str, str] = {}
    for projection in PROJECTIONS.values():
        for table in projection.tables:
            assert table.name not in owners, (table.name, owners.get(table.name))
            owners[table.name] = projection.name
    assert set(owners) == set(TABLES)


def test_select_names_and_topics() -> None:
    """Projections are chosen by name; their input topics come once, in catalog order."""
    assert [p.name for p in select(None)] == list(PROJECTIONS)
    chosen = select("users,ledger")
    assert [t.name for t in input_topics(chosen)] == ["bot.users.events", "bot.billing.ledger"]
    with pytest.raises(KeyError, match="nope"):
        select("nope")


def test_balance_is_the_newest_entry_and_rejections_leave_it() -> None:
    """users.balance follows balance_after by offset; a rejection does not touch it."""
    from decimal import Decimal

    from events import billing

    users = PROJECTIONS["users"]
    changes = Changes(users.tables)
    base = sample(billing.StarterCreditGranted)
    credit = billing.StarterCreditGranted(
        **{f: getattr(base, f) for f in base.__struct_fields__ if f not in {"type"}}
    )
    changes.apply_all(users.ops(credit, Source("bot.billing.ledger", 0, 5)))
    rejected = sample(billing.OperationRejected)
    changes.apply_all(users.ops(rejected, Source("bot.billing.ledger", 0, 6)))
    (row,) = changes.rows("users")
    assert row["balance"] == credit.balance_after
    assert row["balance_offset"] == 5
    assert row["balance"] == Decimal("0.012345")


def test_a_completion_naming_its_answer_writes_the_answer_message() -> None:
    """Since the answer is recorded before it is sent, the completion names the messages
    that show it: the answer's ``messages`` row comes from it (an older completion, with no
    answer, writes none: its answer's row came from the last step's record)."""
    done = sample(TurnCompleted, key="42:7")
    named = msgspec.structs.replace(done, telegram_message_ids=(501, 502), answer="**hi**")
    rows = [op for op in turn_completed(named, Source("bot.thread.events", 0, 9))
            if isinstance(op, Patch) and op.table == MESSAGES.name]  # fmt: skip
    assert [(op.key, op.values["text"], op.values["telegram_message_ids"]) for op in rows] == [
        ((42, 501), "**hi**", [501, 502])
    ]
    older = msgspec.structs.replace(done, telegram_message_ids=(501,), answer="")
    ops = turn_completed(older, Source("bot.thread.events", 0, 9))
    assert not [op for op in ops if op.table == MESSAGES.name]

"""Row operations as data: what a projection asks the read store to do for one record.

Two kinds, both idempotent by construction:

* :class:`Insert` of a whole row into an append-only table, keyed by the id of the record that
  created it; an existing key means the record was applied already, and nothing changes.
* :class:`Patch` of some columns of one row of a mutable table. Columns are split into
  *groups*, each written by one topic and guarded by its own column holding the source
  offset of the last record applied to the group: a patch whose ``version`` is not newer
  than the guard changes nothing. Groups without a guard only hold commutative, idempotent
  merges (``min``, ``max``, ``or``), so any number of writers may apply them in any order.

Values are plain Python values that the database adapter can bind directly: ``int``,
``str``, ``bool``, ``Decimal``, ``datetime`` (UTC), ``uuid.UUID``, ``list`` of those for
array columns, and JSON text (``str``) for ``jsonb`` columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeAlias

Rule: TypeAlias = Literal["set", "min", "max", "or"]
Key: TypeAlias = tuple[Any, ...]
Row: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Group:
    """Columns of a mutable table written together by one kind of writer.

    ``guard`` names the column holding the source offset of the last patch applied (``None``
    for a group of commutative merges); ``rules`` lists columns merged by a rule other than
    ``set``.
    """

    name: str
    guard: str | None
    rules: dict[str, Rule] = field(default_factory=dict)

    def rule(self, column: str) -> Rule:
        return self.rules.get(column, "set")


@dataclass(frozen=True, slots=True)
class Table:
    """A read-model table: its columns in order, its key, and how it is written."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    append_only: bool = False
    groups: tuple[Group, ...] = ()

    def group(self, name: str) -> Group:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(f"{self.name} has no column group {name!r}")

    def key_of(self, row: Row) -> Key:
        return tuple(row[c] for c in self.key)

    def as_tuple(self, row: Row) -> tuple[Any, ...]:
        """The row in column order; absent columns are NULL."""
        get = row.get
        return tuple(get(c) for c in self.columns)


class Insert(NamedTuple):
    """Insert ``row`` (every key column set) unless a row with its key exists.

    (Row operations are named tuples: a replay builds millions of them.)
    """

    table: str
    row: Row


class Patch(NamedTuple):
    """Set ``values`` on the row ``key`` of ``table`` (created if missing), within ``group``.

    ``version`` is the source offset of the record (``None`` for unguarded groups).
    """

    table: str
    group: str
    key: Key
    values: Row
    version: int | None


RowOp: TypeAlias = Insert | Patch

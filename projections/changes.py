"""Row operations folded in memory: a batch for the live projector, or a whole rebuild.

:class:`Changes` applies :class:`~projections.rows.Insert` and :class:`~projections.rows.Patch`
exactly as the database does (first insert wins; a guarded patch applies only when newer
than the group's guard; merge rules combine), keeping one merged patch per
(table, group, key). The live projector writes each merged patch as one upsert; a rebuild
turns them into whole rows (:meth:`Changes.rows`) and bulk-loads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from projections.rows import Group, Insert, Key, Patch, Row, RowOp, Rule, Table


@dataclass(slots=True)
class MergedPatch:
    """The net effect of a run of patches on one row's group: values and newest version."""

    values: Row
    version: int | None


def combine(rule: Rule, old: Any, new: Any) -> Any:
    """The merged value of a column under ``rule`` (``None`` means absent)."""
    if rule == "set":
        return new
    if old is None:
        return new
    if new is None:
        return old
    if rule == "min":
        return min(old, new)
    if rule == "max":
        return max(old, new)
    return bool(old) or bool(new)  # "or"


class Changes:
    """Inserts and merged patches for a set of tables, in memory."""

    __slots__ = ("_groups", "inserts", "patches", "tables")

    def __init__(self, tables: Iterable[Table]) -> None:
        self.tables: dict[str, Table] = {t.name: t for t in tables}
        self.inserts: dict[str, dict[Key, Row]] = {
            t.name: {} for t in self.tables.values() if t.append_only
        }
        self.patches: dict[tuple[str, str], dict[Key, MergedPatch]] = {
            (t.name, g.name): {} for t in self.tables.values() for g in t.groups
        }
        self._groups: dict[tuple[str, str], Group] = {
            (t.name, g.name): g for t in self.tables.values() for g in t.groups
        }

    def apply(self, op: RowOp) -> None:
        if type(op) is Insert:
            table = self.tables[op.table]
            rows = self.inserts[op.table]
            key = table.key_of(op.row)
            if key not in rows:
                rows[key] = op.row
            return
        assert isinstance(op, Patch)
        slot = (op.table, op.group)
        merged = self.patches[slot]
        current = merged.get(op.key)
        if current is None:
            merged[op.key] = MergedPatch(dict(op.values), op.version)
            return
        group = self._groups[slot]
        if group.guard is not None:
            if (
                current.version is not None
                and op.version is not None
                and op.version <= current.version
            ):
                return  # already applied (a redelivery): guarded no-op
            current.values.update(op.values)
            current.version = op.version
            return
        values = current.values
        for column, value in op.values.items():
            values[column] = combine(group.rule(column), values.get(column), value)

    def apply_all(self, ops: Iterable[RowOp]) -> None:
        for op in ops:
            self.apply(op)

    def clear(self) -> None:
        for rows in self.inserts.values():
            rows.clear()
        for merged in self.patches.values():
            merged.clear()

    def __len__(self) -> int:
        return sum(map(len, self.inserts.values())) + sum(map(len, self.patches.values()))

    def group(self, table: str, group: str) -> Group:
        return self._groups[(table, group)]

    def rows(self, table_name: str) -> Iterator[Row]:
        """Whole rows of a table as a fresh database would hold them after these changes."""
        table = self.tables[table_name]
        if table.append_only:
            yield from self.inserts[table_name].values()
            return
        whole: dict[Key, Row] = {}
        for group in table.groups:
            for key, patch in self.patches[(table_name, group.name)].items():
                row = whole.get(key)
                if row is None:
                    row = dict(zip(table.key, key, strict=True))
                    whole[key] = row
                row.update(patch.values)
                if group.guard is not None:
                    row[group.guard] = patch.version
        yield from whole.values()

    def touched_keys(self, table_name: str) -> set[Key]:
        """Keys of ``table_name`` that these changes insert or patch."""
        table = self.tables.get(table_name)
        if table is None:
            return set()
        if table.append_only:
            return set(self.inserts[table_name])
        keys: set[Key] = set()
        for group in table.groups:
            keys.update(self.patches[(table_name, group.name)])
        return keys

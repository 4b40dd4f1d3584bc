"""SQL for the row operations of :mod:`projections.rows`, against one schema.

* an append-only row: ``INSERT ... ON CONFLICT (key) DO NOTHING``;
* a guarded patch: ``INSERT ... ON CONFLICT (key) DO UPDATE SET <columns>, <guard>
  WHERE cur.<guard> IS NULL OR cur.<guard> < EXCLUDED.<guard>`` (an older or equal version
  changes nothing);
* an unguarded (commutative) patch: ``LEAST`` / ``GREATEST`` / ``OR`` merges.

Statements are built once per (schema, table, group, column set) and cached.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

import asyncpg

from infra.postgres import quote_schema
from projections.changes import Changes
from projections.rows import Group
from projections.tables import TABLES


def qualified(schema: str, table: str) -> str:
    return f"{quote_schema(schema)}.{table}"


@functools.cache
def insert_sql(schema: str, table_name: str) -> str:
    table = TABLES[table_name]
    cols = ", ".join(table.columns)
    params = ", ".join(f"${i}" for i in range(1, len(table.columns) + 1))
    return (
        f"INSERT INTO {qualified(schema, table.name)} ({cols}) VALUES ({params}) "
        f"ON CONFLICT ({', '.join(table.key)}) DO NOTHING"
    )


def _merge_expr(group: Group, column: str) -> str:
    rule = group.rule(column)
    if rule == "min":
        return f"{column} = LEAST(cur.{column}, EXCLUDED.{column})"
    if rule == "max":
        return f"{column} = GREATEST(cur.{column}, EXCLUDED.{column})"
    if rule == "or":
        return (
            f"{column} = CASE WHEN cur.{column} IS NULL THEN EXCLUDED.{column} "
            f"WHEN EXCLUDED.{column} IS NULL THEN cur.{column} "
            f"ELSE cur.{column} OR EXCLUDED.{column} END"
        )
    return f"{column} = EXCLUDED.{column}"


@functools.cache
def patch_sql(schema: str, table_name: str, group_name: str, columns: tuple[str, ...]) -> str:
    """Upsert of ``columns`` (after the key columns, then the guard if any)."""
    table = TABLES[table_name]
    group = table.group(group_name)
    written = list(table.key) + list(columns)
    if group.guard is not None:
        written.append(group.guard)
    params = ", ".join(f"${i}" for i in range(1, len(written) + 1))
    sets = [_merge_expr(group, c) for c in columns]
    sql = (
        f"INSERT INTO {qualified(schema, table.name)} AS cur ({', '.join(written)}) "
        f"VALUES ({params}) ON CONFLICT ({', '.join(table.key)}) DO "
    )
    if group.guard is not None:
        sets.append(f"{group.guard} = EXCLUDED.{group.guard}")
        return (
            sql + f"UPDATE SET {', '.join(sets)} "
            f"WHERE cur.{group.guard} IS NULL OR cur.{group.guard} < EXCLUDED.{group.guard}"
        )
    if not sets:
        return sql + "NOTHING"
    return sql + f"UPDATE SET {', '.join(sets)}"


async def write_changes(conn: asyncpg.Connection, schema: str, changes: Changes) -> int:
    """Write a batch's inserts and merged patches; answers the number of statements run."""
    statements = 0
    for table_name, rows in changes.inserts.items():
        if rows:
            table = TABLES[table_name]
            await conn.executemany(
                insert_sql(schema, table_name), [table.as_tuple(r) for r in rows.values()]
            )
            statements += len(rows)
    for (table_name, group_name), merged in changes.patches.items():
        if not merged:
            continue
        group = changes.group(table_name, group_name)
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for key, patch in merged.items():
            columns = tuple(sorted(patch.values))
            args = [*key, *(patch.values[c] for c in columns)]
            if group.guard is not None:
                args.append(patch.version)
            by_columns[columns].append(tuple(args))
        for columns, arg_rows in by_columns.items():
            await conn.executemany(patch_sql(schema, table_name, group_name, columns), arg_rows)
            statements += len(arg_rows)
    return statements

"""Text PostgreSQL accepts: the one place every row value is made safe before it is written.

PostgreSQL ``text`` refuses the character U+0000 and ``jsonb`` refuses the escape ``\\u0000``
(both are valid in Python strings and in JSON, so model output, a file name or a topic title
may carry them). One such value used to fail its whole batch again and again and halt every
projection. Every row operation passes through :func:`safe_ops` (the live projector through
:meth:`projections.catalog.Projection.ops`, the replay fold likewise), which replaces each
U+0000 by U+FFFD (the replacement character) in text, in arrays of text and, as the escape
``\\ufffd``, in JSON text, so the live tables and a rebuild hold the same bytes.

Decoded records can hold U+0000 only where their raw JSON holds the escape ``\\u0000`` (a raw
control character is malformed JSON and lone surrogates are refused by the decoder), so
:func:`may_need_scrub` lets a caller skip the scan for the (almost all) records without one:
the scan costs more than the row mapping itself, the raw check a small fraction of it.
"""

from __future__ import annotations

import re
from typing import Any, Final

from projections.rows import Insert, Patch, Row, RowOp

NUL: Final = "\x00"
REPLACEMENT: Final = "\ufffd"
JSON_NUL: Final = "\\u0000"
RAW_JSON_NUL: Final = JSON_NUL.encode()

# An escape \u0000 is preceded by an even number of backslashes (``\\u0000`` is a literal
# backslash followed by the text "u0000", which PostgreSQL accepts and is left alone).
_JSON_NUL_ESCAPE: Final = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")

JSON_COLUMNS: Final[dict[str, frozenset[str]]] = {
    "messages": frozenset({"attachments", "forward_origin", "usage"}),
    "message_edits": frozenset({"attachments"}),
    "tool_calls": frozenset({"input", "quantities"}),
    "ledger_entries": frozenset({"usage", "tool_quantities", "lines"}),
}
"""The ``jsonb`` columns per table (every other ``str`` value is plain text)."""


def safe_text(value: str) -> str:
    """``value`` with every U+0000 replaced by U+FFFD."""
    return value.replace(NUL, REPLACEMENT) if NUL in value else value


def safe_json(text: str) -> str:
    """JSON text with every ``\\u0000`` escape replaced by ``\\ufffd`` (and raw U+0000 too)."""
    if JSON_NUL in text:
        text = _JSON_NUL_ESCAPE.sub(r"\1\\ufffd", text)
    return safe_text(text)


def may_need_scrub(raw: bytes | None) -> bool:
    """Whether a record's raw JSON may decode to a string holding U+0000."""
    return raw is not None and RAW_JSON_NUL in raw


def _unsafe(value: Any, is_json: bool) -> bool:
    if type(value) is str:
        return NUL in value or (is_json and JSON_NUL in value)
    if type(value) is list:
        return any(type(v) is str and NUL in v for v in value)
    return False


def _safe_value(value: Any, is_json: bool) -> Any:
    if type(value) is str:
        return safe_json(value) if is_json else safe_text(value)
    if type(value) is list:
        return [safe_text(v) if type(v) is str else v for v in value]
    return value


def safe_row(table: str, row: Row) -> Row:
    """``row`` itself when every value is safe, else a copy with the unsafe values replaced."""
    json_columns = JSON_COLUMNS.get(table, frozenset())
    if not any(_unsafe(v, c in json_columns) for c, v in row.items()):
        return row
    return {c: _safe_value(v, c in json_columns) for c, v in row.items()}


def safe_op(op: RowOp) -> RowOp:
    """One row operation with its key and values made safe (the same object when safe)."""
    if type(op) is Insert:
        row = safe_row(op.table, op.row)
        return op if row is op.row else Insert(op.table, row)
    assert type(op) is Patch
    values = safe_row(op.table, op.values)
    key = tuple(_safe_value(k, False) for k in op.key)
    if values is op.values and key == op.key:
        return op
    return Patch(op.table, op.group, key, values, op.version)


def safe_ops(ops: list[RowOp]) -> list[RowOp]:
    """Every operation of ``ops`` made safe (see the module doc)."""
    return [safe_op(op) for op in ops]

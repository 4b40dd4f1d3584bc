"""Text that reaches PostgreSQL is safe: no U+0000 in text, no \\u0000 escape in jsonb."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.catalog import TOPICS
from events.codec import codec_for
from events.envelope import Envelope
from events.samples import SAMPLE_KEYS, sample
from projections.catalog import PROJECTIONS
from projections.rows import Insert, Patch, RowOp
from projections.safe_text import (
    JSON_COLUMNS,
    NUL,
    REPLACEMENT,
    may_need_scrub,
    safe_json,
    safe_ops,
    safe_text,
)
from projections.source import Source, to_json

ALL_RECORDS = [(spec, cls) for spec in TOPICS for cls in spec.record_types]
ENVELOPE_FIELDS = set(Envelope.__struct_fields__)


def _is_identifier(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return value.lstrip("-").isdigit() or value.startswith("claude-")
    return True


def _poison(value: Any, top: bool = True) -> Any:
    """``value`` with U+0000 added to every free-text string field (ids and keys kept)."""
    if isinstance(value, msgspec.Struct):
        changes = {}
        for name in value.__struct_fields__:
            if top and name in ENVELOPE_FIELDS:
                continue
            field = getattr(value, name)
            changed = _poison(field, top=False)
            if changed is not field:
                changes[name] = changed
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, str) and not _is_identifier(value):
        return f"a{NUL}b{value}{NUL}"
    if isinstance(value, tuple | list):
        items = [_poison(v, top=False) for v in value]
        return type(value)(items)
    if isinstance(value, dict):
        return {k: _poison(v, top=False) for k, v in value.items()}
    return value


def _unsafe_values(ops: list[RowOp]) -> list[tuple[str, str, Any]]:
    found = []
    for op in ops:
        values = op.row if isinstance(op, Insert) else {**op.values, "key": op.key}
        for column, value in values.items():
            texts = value if isinstance(value, list | tuple) else [value]
            for text in texts:
                if not isinstance(text, str):
                    continue
                if NUL in text or "\\u0000" in text:
                    found.append((op.table, column, text))
                if column in JSON_COLUMNS.get(op.table, ()):
                    json.loads(text)  # still valid JSON
    return found


@pytest.mark.parametrize(("spec", "cls"), ALL_RECORDS, ids=[c.__name__ for _, c in ALL_RECORDS])
def test_every_record_maps_to_text_postgresql_accepts(spec: Any, cls: Any) -> None:
    """U+0000 anywhere in a record's text (model output, file names, titles) never reaches a
    row: text and jsonb values carry U+FFFD instead, and the raw record says to scrub."""
    original = sample(cls, key=SAMPLE_KEYS[spec.key_kind])
    record = _poison(original)
    poisoned = record != original
    src = Source(spec.name, 0, 1)
    for projection in PROJECTIONS.values():
        if spec in projection.topics:
            assert _unsafe_values(projection.ops(record, src)) == []
    if poisoned:
        _key, value, _headers = codec_for(spec).encode(record)
        assert may_need_scrub(value)


def test_a_topic_title_and_file_name_with_nul_are_replaced() -> None:
    """The exact values PostgreSQL refused are written with U+FFFD (visible, not dropped)."""
    from events import files, thread

    title = sample(thread.TopicNamed, key="-100:7")
    title = msgspec.structs.replace(title, title=f"Plan{NUL}B")
    (op, *_rest) = PROJECTIONS["threads"].ops(title, Source("bot.thread.events", 0, 3))
    assert isinstance(op, Patch)
    assert op.values["title"] == f"Plan{REPLACEMENT}B"
    received = sample(files.FileReceived, key="-100:7")
    received = msgspec.structs.replace(received, file_name=f"a{NUL}.txt")
    ops = PROJECTIONS["threads"].ops(received, Source("bot.thread.events", 0, 4))
    names = [o.values["file_name"] for o in ops if isinstance(o, Patch) and o.table == "files"]
    assert names == [f"a{REPLACEMENT}.txt"]


@given(st.text())
def test_safe_json_keeps_json_valid_and_equal_to_safe_text(text: str) -> None:
    """Scrubbing JSON text equals scrubbing the text and encoding it; literal backslashes
    followed by ``u0000`` are left as they are."""
    scrubbed = safe_json(to_json({"t": text, "n": [text]}))
    assert "\\u0000" not in scrubbed.replace("\\\\", "")
    assert json.loads(scrubbed) == {"t": safe_text(text), "n": [safe_text(text)]}
    assert NUL not in safe_text(text)
    assert safe_text(text).replace(REPLACEMENT, NUL) == text.replace(REPLACEMENT, NUL)


def test_literal_backslash_u0000_text_is_not_an_escape() -> None:
    r"""A user who types \u0000 keeps those six characters, in text and in JSON."""
    typed = "\\u0000"
    assert safe_text(typed) == typed
    assert json.loads(safe_json(to_json([typed]))) == [typed]


def test_safe_ops_returns_the_same_objects_when_nothing_is_unsafe() -> None:
    """Clean operations pass through untouched (no copies on the hot path)."""
    ops: list[RowOp] = [
        Insert("margin_changes", {"event_id": "x", "admin_user_id": 1}),
        Patch("threads", "row", ("1:0",), {"title": "ok"}, 3),
    ]
    out = safe_ops(ops)
    assert all(a is b for a, b in zip(out, ops, strict=True))


@given(st.text(), st.text())
def test_raw_check_finds_every_record_whose_text_holds_nul(text: str, name: str) -> None:
    """The raw-bytes shortcut never skips a record that needs scrubbing: whenever a decoded
    text holds U+0000, its raw JSON holds the escape."""
    from events import files

    spec = next(t for t in TOPICS if files.FileReceived in t.record_types)
    record = msgspec.structs.replace(
        sample(files.FileReceived, key="-100:7"), file_name=name, mime_type=text
    )
    _key, raw, _headers = codec_for(spec).encode(record)
    decoded = codec_for(spec).decode(raw)
    if NUL in (decoded.file_name or "") + (decoded.mime_type or ""):
        assert may_need_scrub(raw)
    src = Source(spec.name, 0, 1)
    scrubbed = PROJECTIONS["threads"].ops(decoded, src)
    assert PROJECTIONS["threads"].ops(decoded, src, scrub=may_need_scrub(raw)) == scrubbed

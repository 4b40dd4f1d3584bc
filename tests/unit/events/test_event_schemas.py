"""Checked-in JSON Schemas, fingerprints and golden samples match the code."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec
import pytest

from events.catalog import record_types, topic_of
from events.codec import codec_for
from events.envelope import event_type, schema_version
from events.schema_export import (
    all_shapes,
    check,
    compatibility_problems,
    export,
    fingerprint,
    golden_bytes,
)
from events.thread import StopRequested

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "docs" / "schemas"
GOLDEN = ROOT / "tests" / "golden"


def test_checked_in_schemas_fingerprints_and_goldens_match_the_code() -> None:
    """Re-exporting would change nothing; otherwise the message says what to do."""
    report = check(SCHEMAS, GOLDEN)
    assert report.problems == [], "\n".join(report.problems)


@pytest.mark.parametrize("key", sorted(all_shapes()))
def test_every_golden_sample_decodes(key: str) -> None:
    """Every stored sample of every version ever written still decodes (old ones upcast)."""
    golden = (GOLDEN / f"{key}.json").read_bytes()
    tag = key.split("@")[0]
    current = record_types()[tag]
    record = codec_for(topic_of(tag)).decode(golden)
    assert type(record) is current


@pytest.mark.parametrize("cls", sorted(record_types().values(), key=event_type), ids=event_type)
def test_current_golden_sample_reencodes_to_the_same_json(cls: type) -> None:
    """A current-version sample re-encodes to the stored JSON (new defaulted fields aside)."""
    golden = (GOLDEN / f"{event_type(cls)}@v{schema_version(cls)}.json").read_bytes()
    assert compatibility_problems(cls, golden) == []
    reencoded = codec_for(topic_of(event_type(cls))).encode_value(
        codec_for(topic_of(event_type(cls))).decode(golden)
    )
    assert _without_new_keys(msgspec.json.decode(reencoded), msgspec.json.decode(golden)) == (
        msgspec.json.decode(golden)
    )


def _without_new_keys(value: object, stored: object) -> object:
    """``value`` with the object keys that ``stored`` lacks removed (fields added since)."""
    if isinstance(value, dict) and isinstance(stored, dict):
        return {k: _without_new_keys(v, stored[k]) for k, v in value.items() if k in stored}
    if isinstance(value, list) and isinstance(stored, list) and len(value) == len(stored):
        return [_without_new_keys(v, s) for v, s in zip(value, stored, strict=True)]
    return value


class _StopRequestedRetyped(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """StopRequested with `message_id` changed from int to str (a breaking change)."""

    v: Literal[1] = 1
    user_id: int
    message_id: str | None = None


def test_breaking_change_without_version_bump_is_detected(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Changing a field's type under the same version fails the export with advice."""
    import events.thread as thread

    tmp_schemas, tmp_golden = tmp_path / "schemas", tmp_path / "golden"
    assert export(tmp_schemas, tmp_golden).problems == []
    breaking = msgspec.defstruct(
        "StopRequested",
        [("message_id", str | None, None)],
        bases=(thread.StopRequested,),
        tag="thread.stop_requested",
        frozen=True,
        kw_only=True,
    )
    assert fingerprint(breaking) != fingerprint(StopRequested)
    _swap_stop_requested(monkeypatch, breaking)
    assert b'"message_id": 7' in golden_bytes(StopRequested)
    report = export(tmp_schemas, tmp_golden)
    assert any("BREAKING change to thread.stop_requested@v1" in p for p in report.problems)
    assert any("upcaster v1 -> v2" in p for p in report.problems)


def test_compatible_change_only_asks_to_regenerate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Adding a defaulted field is compatible: check asks to re-record, export does it."""
    import events.thread as thread

    tmp_schemas, tmp_golden = tmp_path / "schemas", tmp_path / "golden"
    export(tmp_schemas, tmp_golden)
    extended = msgspec.defstruct(
        "StopRequested",
        [("reason", str, "")],
        bases=(thread.StopRequested,),
        tag="thread.stop_requested",
        frozen=True,
        kw_only=True,
    )
    _swap_stop_requested(monkeypatch, extended)
    problems = check(tmp_schemas, tmp_golden).problems
    assert any("thread.stop_requested@v1 changed compatibly" in p for p in problems)
    assert export(tmp_schemas, tmp_golden).problems == []
    assert check(tmp_schemas, tmp_golden).problems == []


def _swap_stop_requested(monkeypatch: pytest.MonkeyPatch, cls: type) -> None:
    """Make the catalog's thread inbox union carry ``cls`` instead of StopRequested."""
    import dataclasses

    import events.catalog as catalog
    import events.schema_export as schema_export

    members = tuple(cls if m is StopRequested else m for m in catalog.THREAD_INBOX.record_types)
    union = members[0]
    for m in members[1:]:
        union = union | m  # type: ignore[assignment]
    patched = dataclasses.replace(catalog.THREAD_INBOX, value_type=union)
    topics = tuple(patched if t is catalog.THREAD_INBOX else t for t in catalog.TOPICS)
    monkeypatch.setattr(catalog, "TOPICS", topics)
    monkeypatch.setattr(schema_export, "TOPICS", topics)


def test_exported_descriptions_do_not_depend_on_how_docstrings_are_dedented() -> None:
    """A library's docstring whitespace (msgspec 0.22 vs 0.23) never changes an exported file."""
    from events.schema_export import _normalise_docs

    a = {"description": "Line one.\n\n    Line two.", "items": [{"description": " x\n y "}]}
    b = {"description": "Line one.\nLine two.", "items": [{"description": "x y"}]}
    assert _normalise_docs(a) == _normalise_docs(b)
    assert _normalise_docs(a)["description"] == "Line one. Line two."

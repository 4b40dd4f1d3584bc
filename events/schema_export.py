"""JSON Schemas of the topics, schema fingerprints and golden samples.

``python -m events.schema_export [--check] [SCHEMAS_DIR] [GOLDEN_DIR]``
(defaults ``docs/schemas`` and ``tests/golden``) writes:

* ``<topic>.json``: the JSON Schema of each topic's value union, with its Kafka facts;
* ``fingerprints.json``: ``{"<type>@v<n>": sha256}`` of every record shape ever written,
  append-only. A current shape whose fingerprint changed is re-recorded only when the
  golden sample of that version still decodes to the same values (a compatible change: a
  new field with a default); otherwise the export fails: bump the version and register an
  upcaster;
* ``GOLDEN_DIR/<type>@v<n>.json``: one sample of every record type and version, written
  once and never overwritten (they are the stored data of the past).

With ``--check`` nothing is written; the problems are printed and the exit code is 1.
The golden and schema tests call :func:`check` too.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec

from events.catalog import TOPICS, TopicSpec, record_types, topic_of
from events.codec import (
    CONTENT_TYPE_JSON,
    HEADER_CONTENT_TYPE,
    HEADER_CORRELATION_ID,
    HEADER_EVENT_TYPE,
    HEADER_SCHEMA_VERSION,
    Codec,
    DecodeError,
)
from events.envelope import Envelope, event_type, schema_version
from events.legacy import LEGACY_TYPES
from events.samples import SAMPLE_KEYS, sample
from events.upcasting import UPCASTERS

FINGERPRINTS_FILE: Final = "fingerprints.json"
JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
_KEY_DOC: Final = {
    "thread": "thread key '{chat_id}:{message_thread_id or 0}', e.g. '-1001234:42'",
    "user": "Telegram user id in decimal, e.g. '5551234'",
    "global": "the constant 'global'",
}


# --------------------------------------------------------------------------- pure functions


def topic_schema(spec: TopicSpec[Any]) -> dict[str, Any]:
    """The JSON Schema of a topic's values, with its Kafka facts under ``x-kafka``."""
    schema = _normalise_docs(msgspec.json.schema(spec.value_type))
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": spec.name,
        "description": spec.description,
        "x-kafka": {
            "key": _KEY_DOC[spec.key_kind],
            "partitions": spec.partitions,
            "configs": spec.configs(),
            "dead_letter_topic": spec.dead_letter_name,
            "headers": {
                HEADER_EVENT_TYPE: "the value's `type`",
                HEADER_SCHEMA_VERSION: "the value's `v`",
                HEADER_CORRELATION_ID: "the value's `correlation_id`",
                HEADER_CONTENT_TYPE: CONTENT_TYPE_JSON.decode(),
            },
            "producers": list(spec.producers),
            "consumers": list(spec.consumers),
        },
        **schema,
    }


def _normalise_docs(node: Any) -> Any:
    """Every ``description`` with its whitespace collapsed to single spaces.

    Descriptions come from docstrings, and how a library dedents them is cosmetic (msgspec
    0.22 and 0.23 differ): the exported files must not change with it.
    """
    if isinstance(node, dict):
        return {
            k: " ".join(v.split())
            if k == "description" and isinstance(v, str)
            else _normalise_docs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_normalise_docs(v) for v in node]
    return node


def shape_key(cls: type[Envelope]) -> str:
    """``"<type>@v<version>"``, the name of a record shape."""
    return f"{event_type(cls)}@v{schema_version(cls)}"


def fingerprint(cls: type[Envelope]) -> str:
    """SHA-256 of a record's wire shape: its JSON Schema with references inlined and titles,
    descriptions and docs removed, so renaming a class or editing a docstring is not a
    change, while any field, type, default or constraint change is."""
    (ref,), components = msgspec.json.schema_components([cls])
    inlined = _inline(ref, components)
    return hashlib.sha256(msgspec.json.encode(inlined, order="sorted")).hexdigest()


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _inline(defs[name], defs)
        return {
            k: _inline(v, defs)
            for k, v in node.items()
            if k not in {"title", "description", "examples", "$comment"}
        }
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def all_shapes() -> dict[str, type[Envelope]]:
    """Every record shape the code knows: current types and superseded (legacy) ones."""
    shapes = {shape_key(cls): cls for cls in record_types().values()}
    shapes.update({shape_key(cls): cls for cls in LEGACY_TYPES})
    return shapes


def golden_bytes(cls: type[Envelope]) -> bytes:
    """The golden sample of a shape, as indented JSON (the value a producer writes)."""
    spec = topic_of(event_type(cls))
    record = sample(cls, key=SAMPLE_KEYS[spec.key_kind])
    return msgspec.json.format(msgspec.json.encode(record), indent=2) + b"\n"


def compatibility_problems(cls: type[Envelope], golden: bytes) -> list[str]:
    """Why a stored golden sample of ``cls``'s current version no longer reads the same.

    Compatible: it decodes, and re-encoding keeps every stored field with the same value
    (new fields with defaults may appear). Anything else needs a version bump.
    """
    spec = topic_of(event_type(cls))
    codec = Codec(spec)
    try:
        record = codec.decode(golden)
    except DecodeError as exc:
        return [f"the stored sample no longer decodes: {exc}"]
    if type(record) is not cls:
        return [f"the stored sample decodes as {type(record).__name__}, not {cls.__name__}"]
    stored = msgspec.json.decode(golden)
    again = msgspec.json.decode(codec.encode_value(record))
    return list(_lost_values(stored, again, "$"))


def _lost_values(stored: Any, again: Any, path: str) -> Iterable[str]:
    if isinstance(stored, dict) and isinstance(again, dict):
        for k, v in stored.items():
            if k not in again:
                yield f"{path}.{k} is gone"
            else:
                yield from _lost_values(v, again[k], f"{path}.{k}")
    elif isinstance(stored, list) and isinstance(again, list) and len(stored) == len(again):
        for i, (a, b) in enumerate(zip(stored, again, strict=True)):
            yield from _lost_values(a, b, f"{path}[{i}]")
    elif stored != again:
        yield f"{path} was {stored!r}, now reads back as {again!r}"


# --------------------------------------------------------------------------- export / check


@dataclass
class Report:
    """What an export or check found: ``problems`` fail it, ``notes`` are informational."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def _load_registry(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = msgspec.json.decode(path.read_bytes(), type=dict[str, str])
    return dict(data)


def _encode_json(obj: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(obj), indent=2) + b"\n"


def check(schemas_dir: Path, golden_dir: Path) -> Report:
    """Compare the code with the checked-in schemas, fingerprints and golden samples."""
    return _run(schemas_dir, golden_dir, write=False)


def export(schemas_dir: Path, golden_dir: Path) -> Report:
    """Write schemas, record compatible fingerprints, add missing golden samples."""
    return _run(schemas_dir, golden_dir, write=True)


def _run(schemas_dir: Path, golden_dir: Path, *, write: bool) -> Report:
    report = Report()
    regen = "run `python -m events.schema_export` to record it"

    for spec in TOPICS:
        path = schemas_dir / f"{spec.name}.json"
        wanted = _encode_json(topic_schema(spec))
        if path.exists() and path.read_bytes() == wanted:
            continue
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(wanted)
            report.written.append(path)
        else:
            report.problems.append(f"{path} differs from the code's schema of {spec.name}: {regen}")

    registry_path = schemas_dir / FINGERPRINTS_FILE
    registry = _load_registry(registry_path)
    new_registry = dict(registry)
    current = {shape_key(cls): cls for cls in record_types().values()}
    legacy = {shape_key(cls): cls for cls in LEGACY_TYPES}

    for key, cls in sorted(all_shapes().items()):
        golden_path = golden_dir / f"{key}.json"
        if not golden_path.exists():
            if write:
                golden_path.parent.mkdir(parents=True, exist_ok=True)
                golden_path.write_bytes(golden_bytes(cls))
                report.written.append(golden_path)
            else:
                report.problems.append(f"no golden sample {golden_path}: {regen}")
        fp = fingerprint(cls)
        recorded = registry.get(key)
        if recorded is None:
            new_registry[key] = fp
            if not write:
                report.problems.append(f"{key} is not in {registry_path}: {regen}")
            continue
        if recorded == fp:
            continue
        if key in legacy:
            report.problems.append(
                f"{key} is a superseded shape in events/legacy.py and must not change "
                "(its records are already stored)"
            )
            continue
        golden = golden_path.read_bytes() if golden_path.exists() else golden_bytes(cls)
        lost = compatibility_problems(cls, golden)
        if lost:
            report.problems.append(
                f"BREAKING change to {key} without a version bump ({'; '.join(lost)}). "
                f"Keep the old shape in events/legacy.py, set `v: Literal["
                f"{schema_version(cls) + 1}] = {schema_version(cls) + 1}` and register an "
                f"upcaster v{schema_version(cls)} -> v{schema_version(cls) + 1} in "
                "events/upcasting.py"
            )
        elif write:
            new_registry[key] = fp
            report.notes.append(f"{key} changed compatibly; fingerprint re-recorded")
        else:
            report.problems.append(f"{key} changed compatibly (new optional field?): {regen}")

    for key, cls in current.items():
        tag, version = event_type(cls), schema_version(cls)
        for old in range(1, version):
            if (tag, old) not in UPCASTERS.steps():
                report.problems.append(f"{key}: no upcaster from v{old} to v{old + 1}")
            if f"{tag}@v{old}" not in legacy:
                report.problems.append(f"{key}: v{old} shape is missing from events/legacy.py")

    if write and new_registry != registry:
        registry_path.parent.mkdir(parents=True, exist_ok=True)
        registry_path.write_bytes(_encode_json(dict(sorted(new_registry.items()))))
        report.written.append(registry_path)
    return report


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    write = "--check" not in args
    paths = [a for a in args if not a.startswith("--")]
    schemas_dir = Path(paths[0] if paths else "docs/schemas")
    golden_dir = Path(paths[1] if len(paths) > 1 else "tests/golden")
    report = export(schemas_dir, golden_dir) if write else check(schemas_dir, golden_dir)
    for path in report.written:
        print(f"wrote {path}")
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The envelope every record on every topic carries, flat in its JSON object.

``{"type": "thread.turn_started", "v": 1, "id": "0193...", "occurred_at":
"2026-05-01T12:00:00Z", "key": "-1001234:42", "causation_id": "0193...",
"correlation_id": "0193...", "producer": "thread-actor", ...payload}``

* ``type``: the explicit, stable tag of the record (never the class name);
* ``v``: the schema version of this record type; every class narrows it to its own
  ``v: Literal[n] = n``, so a record of another version fails the fast decode path;
* ``id``: UUIDv7 chosen by the producer, the record's idempotency key;
* ``occurred_at``: when it happened, UTC (naive datetimes are refused);
* ``key``: the partition key as a string (thread key or user id, see :mod:`events.keys`);
* ``causation_id``: the id of the record that caused this one (``None`` for external input);
* ``correlation_id``: the id of the first record of the chain (a Telegram update's command);
* ``producer``: the service that wrote it (``"gateway"``, ``"thread-actor"``, ``"billing"``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias, TypedDict

import msgspec

from events.ids import Id, derived_id, new_id

UtcDatetime: TypeAlias = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timezone-aware datetime; records carry UTC and decoding refuses naive values."""

ENVELOPE_FIELDS = frozenset(
    {"type", "id", "occurred_at", "key", "causation_id", "correlation_id", "producer", "v"}
)
LATER_OPTIONAL_FIELDS = frozenset({"reservation_id"})
"""Optional payload fields added to a record type after it was first written: left out of
:func:`payload_digest` while unset, so a command written before the field existed keeps its
digest (its redelivery stays a repeat, not a conflicting duplicate)."""


class Envelope(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    """Base of every event and command. Subclasses set ``tag=`` and ``v: Literal[n] = n``."""

    v: int = 1
    id: Id
    occurred_at: UtcDatetime
    key: str
    causation_id: Id | None = None
    correlation_id: Id
    producer: str


class Payload(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of the value objects nested inside records (usage, attachments...)."""


class EnvelopeFields(TypedDict):
    """The envelope as keyword arguments: ``TurnStarted(**caused_by(cmd, ...), ...)``."""

    id: str
    occurred_at: datetime
    key: str
    causation_id: str | None
    correlation_id: str
    producer: str


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_envelope(
    *,
    key: str,
    producer: str,
    occurred_at: datetime | None = None,
    id: str | None = None,
) -> EnvelopeFields:
    """Envelope of a record starting a chain (a Telegram update): it correlates to itself."""
    record_id = id or new_id()
    return EnvelopeFields(
        id=record_id,
        occurred_at=occurred_at or utc_now(),
        key=key,
        causation_id=None,
        correlation_id=record_id,
        producer=producer,
    )


def caused_by(
    cause: Envelope,
    *,
    producer: str,
    key: str | None = None,
    label: str | None = None,
    occurred_at: datetime | None = None,
) -> EnvelopeFields:
    """Envelope of a record caused by ``cause``: same correlation, causation = cause.id.

    With ``label`` the id is derived deterministically from (cause.id, label), so a retried
    producer writes the same id again; without it a fresh UUIDv7 is minted. ``key`` defaults
    to the cause's key.
    """
    return EnvelopeFields(
        id=new_id() if label is None else derived_id(cause.id, label),
        occurred_at=occurred_at or utc_now(),
        key=cause.key if key is None else key,
        causation_id=cause.id,
        correlation_id=cause.correlation_id,
        producer=producer,
    )


def event_type(cls: type[Envelope]) -> str:
    """The wire tag (``"type"``) of a record class."""
    tag = cls.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{cls.__name__} has no explicit string tag")
    return tag


def schema_version(cls: type[Envelope]) -> int:
    """The schema version (the default of the ``v`` field) of a record class."""
    for field in msgspec.structs.fields(cls):
        if field.name == "v" and isinstance(field.default, int):
            return field.default
    raise TypeError(f"{cls.__name__} declares no `v: Literal[n] = n` schema version")


def payload_digest(record: Envelope) -> str:
    """SHA-256 of a record's payload (envelope excluded), keys sorted.

    Two commands with the same operation id and the same digest are the same operation
    (a retry, a no-op); the same operation id with a different digest is an error.
    """
    fields: dict[str, Any] = {
        f: getattr(record, f) for f in record.__struct_fields__ if f not in ENVELOPE_FIELDS
    }
    for f in LATER_OPTIONAL_FIELDS.intersection(fields):
        if fields[f] is None:
            del fields[f]
    fields["type"] = event_type(type(record))
    return hashlib.sha256(msgspec.json.encode(fields, order="sorted")).hexdigest()

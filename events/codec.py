"""Per-topic codec: records <-> Kafka (key, value, headers).

Wire format, readable with kcat or Kafka UI:

* key: the partition key as UTF-8 text (``"-1001234:42"``, ``"5551234"``, ``"global"``);
* value: one flat JSON object with ``type`` and ``v`` (see :mod:`events.envelope`), money
  as decimal strings, times as RFC 3339 UTC;
* headers: ``event-type``, ``schema-version``, ``correlation-id``, ``content-type``.

Decoding tolerates unknown fields (newer producers may add fields with defaults). Records of
the current version take the fast path: one reusable ``msgspec.json.Decoder`` for the topic
union. Only when that fails (an older version, or a broken record) does the codec parse a
dict, upcast it (:mod:`events.upcasting`) and convert it; anything still undecodable raises
:class:`DecodeError` with a short ``reason`` for the dead-letter header.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any, Final, Generic, TypeAlias, TypeVar

import msgspec

from events.catalog import TopicSpec
from events.envelope import Envelope, event_type, schema_version
from events.keys import is_valid_key
from events.upcasting import UPCASTERS, UpcastError, Upcasters

E = TypeVar("E")

Headers: TypeAlias = list[tuple[str, bytes]]
EncodedRecord: TypeAlias = tuple[bytes, bytes, Headers]
"""``(key, value, headers)`` ready for ``producer.send(topic, value, key=, headers=)``."""

HEADER_EVENT_TYPE: Final = "event-type"
HEADER_SCHEMA_VERSION: Final = "schema-version"
HEADER_CORRELATION_ID: Final = "correlation-id"
HEADER_CONTENT_TYPE: Final = "content-type"
CONTENT_TYPE_JSON: Final = b"application/json"

_ZERO: Final = timedelta(0)
_KNOWN_KEYS_MAX: Final = 65_536


class DecodeError(Exception):
    """A record could not be decoded. ``reason`` is a short code for the dead-letter header.

    Reasons: ``empty_value``, ``invalid_json``, ``not_an_object``, ``missing_type``,
    ``unknown_type`` (a type this topic does not carry, or from a newer producer),
    ``newer_version`` (written by a newer producer: upgrade this consumer),
    ``upcast_failed``, ``invalid_payload``.
    """

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        event_type: str | None = None,
        version: int | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.event_type = event_type
        self.version = version


class EncodeError(ValueError):
    """A record cannot be written to this topic (wrong type, key or a non-UTC time)."""


class _TypeInfo:
    __slots__ = ("cls", "tag", "tag_header", "version", "version_header")

    def __init__(self, cls: type[Envelope]) -> None:
        self.cls = cls
        self.tag = event_type(cls)
        self.version = schema_version(cls)
        self.tag_header = self.tag.encode()
        self.version_header = str(self.version).encode()


class Codec(Generic[E]):
    """Encoder and decoder for one topic; reusable and cheap to call (build it once)."""

    __slots__ = (
        "_by_cls",
        "_by_tag",
        "_decoder",
        "_encoder",
        "_key_kind",
        "_known_keys",
        "_upcasters",
        "topic",
    )

    def __init__(self, topic: TopicSpec[E], *, upcasters: Upcasters = UPCASTERS) -> None:
        if not topic.record_types:
            raise ValueError(f"{topic.name} carries raw records, it has no codec")
        self.topic = topic
        self._key_kind = topic.key_kind
        self._known_keys: dict[str, bytes] = {}  # keys already validated, encoded
        self._upcasters = upcasters
        infos = [_TypeInfo(cls) for cls in topic.record_types]
        self._by_cls: dict[type[Any], _TypeInfo] = {i.cls: i for i in infos}
        self._by_tag: dict[str, _TypeInfo] = {i.tag: i for i in infos}
        self._encoder = msgspec.json.Encoder(decimal_format="string")
        self._decoder: msgspec.json.Decoder[E] = msgspec.json.Decoder(topic.value_type)

    # ------------------------------------------------------------------------ encode

    def encode(self, event: E) -> EncodedRecord:
        """``(key, value, headers)`` of a record; raises :class:`EncodeError` if it does not
        belong on this topic, its key is malformed, or a time is not UTC."""
        info = self._by_cls.get(type(event))
        if info is None:
            raise EncodeError(f"{type(event).__name__} is not carried by {self.topic.name}")
        record: Envelope = event  # type: ignore[assignment]
        when = record.occurred_at
        if when.tzinfo is not UTC and when.utcoffset() != _ZERO:
            raise EncodeError(f"occurred_at must be UTC, got {when!r}")
        key = self._known_keys.get(record.key)
        if key is None:
            key = self._check_key(record.key)
        headers: Headers = [
            (HEADER_EVENT_TYPE, info.tag_header),
            (HEADER_SCHEMA_VERSION, info.version_header),
            (HEADER_CORRELATION_ID, record.correlation_id.encode()),
            (HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON),
        ]
        return key, self._encoder.encode(record), headers

    def _check_key(self, key: str) -> bytes:
        if not is_valid_key(self._key_kind, key):
            raise EncodeError(f"{key!r} is not a {self._key_kind} key ({self.topic.name})")
        if len(self._known_keys) >= _KNOWN_KEYS_MAX:
            self._known_keys.clear()
        encoded = key.encode()
        self._known_keys[key] = encoded
        return encoded

    def encode_value(self, event: E) -> bytes:
        """Only the JSON value (for tests, tools and golden samples)."""
        return self.encode(event)[1]

    # ------------------------------------------------------------------------ decode

    def decode(self, value: bytes | None, headers: Sequence[tuple[str, bytes]] | None = None) -> E:
        """The record in ``value``; raises :class:`DecodeError` (with a ``reason``) if none.

        ``headers`` are not needed to decode (the JSON carries type and version); they are
        accepted so that callers can pass a Kafka record through unchanged.
        """
        if not value:
            raise DecodeError("empty_value", "the record has no value (tombstone?)")
        try:
            return self._decoder.decode(value)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._decode_slow(value)

    def _decode_slow(self, value: bytes) -> E:
        try:
            raw = msgspec.json.decode(value)
        except msgspec.DecodeError as exc:
            raise DecodeError("invalid_json", str(exc)) from None
        if not isinstance(raw, dict):
            raise DecodeError("not_an_object", f"expected a JSON object, got {type(raw).__name__}")
        tag = raw.get("type")
        if not isinstance(tag, str):
            raise DecodeError("missing_type", "no string `type` field")
        info = self._by_tag.get(tag)
        if info is None:
            raise DecodeError(
                "unknown_type", f"{tag!r} is not carried by {self.topic.name}", event_type=tag
            )
        version = raw.get("v", info.version)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise DecodeError("invalid_payload", f"bad schema version {version!r}", event_type=tag)
        if version > info.version:
            raise DecodeError(
                "newer_version",
                f"{tag} v{version} is newer than this consumer's v{info.version}",
                event_type=tag,
                version=version,
            )
        if version < info.version:
            try:
                raw = self._upcasters.upcast(raw, tag, info.version)
            except (UpcastError, KeyError, TypeError, ValueError) as exc:
                raise DecodeError(
                    "upcast_failed", str(exc), event_type=tag, version=version
                ) from None
        try:
            result: E = msgspec.convert(raw, info.cls)  # type: ignore[assignment]
        except msgspec.ValidationError as exc:
            raise DecodeError(
                "invalid_payload", str(exc), event_type=tag, version=version
            ) from None
        return result


@functools.cache
def codec_for(topic: TopicSpec[E]) -> Codec[E]:
    """The shared codec of a topic (built on first use)."""
    return Codec(topic)


def header_value(headers: Sequence[tuple[str, bytes]] | None, name: str) -> str | None:
    """A header as text, or ``None`` if absent."""
    for key, value in headers or ():
        if key == name:
            return value.decode("utf-8", "replace")
    return None

"""Codec round trips, wire format and decode failures of every record type."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import msgspec
import pytest
from event_strategies import records
from hypothesis import given, settings
from hypothesis import strategies as st

from events.billing import UsageDebited
from events.catalog import (
    BILLING_LEDGER,
    THREAD_EVENTS,
    THREAD_INBOX,
    TOPICS,
    record_types,
    topic_of,
)
from events.codec import Codec, DecodeError, EncodeError, codec_for, header_value
from events.envelope import Envelope, event_type, schema_version
from events.samples import SAMPLE_KEYS, sample
from events.thread import StopRequested, TurnStarted

ALL_TYPES = sorted(record_types().values(), key=event_type)


def _sample(cls: type[Envelope]) -> Envelope:
    return sample(cls, key=SAMPLE_KEYS[topic_of(event_type(cls)).key_kind])


@pytest.mark.parametrize("cls", ALL_TYPES, ids=event_type)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_record_type_round_trips(cls: type[Envelope], data: st.DataObject) -> None:
    """Any valid record encodes and decodes back to an equal record, with matching headers."""
    record = data.draw(records(cls))
    codec = codec_for(topic_of(event_type(cls)))
    key, value, headers = codec.encode(record)
    assert codec.decode(value, headers) == record
    assert key == record.key.encode()
    assert header_value(headers, "event-type") == event_type(cls)
    assert header_value(headers, "schema-version") == str(schema_version(cls))
    assert header_value(headers, "correlation-id") == str(record.correlation_id)
    assert header_value(headers, "content-type") == "application/json"


@pytest.mark.parametrize("cls", ALL_TYPES, ids=event_type)
def test_value_is_flat_json_with_type_and_version_first(cls: type[Envelope]) -> None:
    """The JSON value starts with type and v, then the envelope fields, all top-level."""
    value = codec_for(topic_of(event_type(cls))).encode_value(_sample(cls))
    obj = msgspec.json.decode(value)
    assert list(obj)[:8] == [
        "type",
        "v",
        "id",
        "occurred_at",
        "key",
        "causation_id",
        "correlation_id",
        "producer",
    ]
    assert obj["type"] == event_type(cls)
    assert obj["v"] == schema_version(cls)


def test_money_is_a_decimal_string_never_a_float() -> None:
    """Decimal amounts are written as JSON strings and read back exactly."""
    entry = msgspec.structs.replace(
        sample(UsageDebited), amount=Decimal("-0.000123456789"), balance_after=Decimal("0.1")
    )
    codec = codec_for(BILLING_LEDGER)
    value = codec.encode_value(entry)
    assert b'"amount":"-0.000123456789"' in value
    assert b'"balance_after":"0.1"' in value
    assert codec.decode(value).amount == Decimal("-0.000123456789")  # type: ignore[union-attr]


def test_unknown_fields_from_newer_producers_are_tolerated() -> None:
    """Extra fields (top-level and nested) are ignored, not rejected."""
    codec = codec_for(THREAD_EVENTS)
    record = sample(TurnStarted, key="-1:2")
    obj = msgspec.json.decode(codec.encode_value(record))
    obj["added_later"] = {"x": [1, 2]}
    assert codec.decode(msgspec.json.encode(obj)) == record


def test_naive_datetime_is_rejected_on_decode() -> None:
    """A stored occurred_at without a timezone is an invalid payload."""
    codec = codec_for(THREAD_INBOX)
    value = codec.encode_value(sample(StopRequested, key="5:0"))
    naive = value.replace(
        b'"occurred_at":"2026-05-01T12:00:00.123000Z"', b'"occurred_at":"2026-05-01T12:00:00"'
    )
    assert naive != value
    with pytest.raises(DecodeError) as info:
        codec.decode(naive)
    assert info.value.reason == "invalid_payload"


@pytest.mark.parametrize(
    "when",
    [datetime(2026, 5, 1, 12), datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=3)))],
    ids=["naive", "utc+3"],
)
def test_non_utc_datetime_is_refused_on_encode(when: datetime) -> None:
    """Producers must write UTC times; naive or offset times raise EncodeError."""
    record = msgspec.structs.replace(sample(StopRequested, key="5:0"), occurred_at=when)
    with pytest.raises(EncodeError):
        codec_for(THREAD_INBOX).encode(record)


@pytest.mark.parametrize("key", ["5551234", "abc", "1:2:3", ""])
def test_malformed_thread_key_is_refused_on_encode(key: str) -> None:
    """A thread topic only takes '{chat_id}:{thread_id}' keys."""
    record = msgspec.structs.replace(sample(StopRequested, key="5:0"), key=key)
    with pytest.raises(EncodeError):
        codec_for(THREAD_INBOX).encode(record)


def test_record_of_another_topic_is_refused_on_encode() -> None:
    """Encoding a ledger entry with the thread inbox codec is an error."""
    with pytest.raises(EncodeError):
        codec_for(THREAD_INBOX).encode(sample(UsageDebited))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty_value"),
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b'{"v": 1}', "missing_type"),
        (b'{"type": "ledger.usage_debited", "v": 1}', "unknown_type"),
        (b'{"type": "thread.stop_requested", "v": 9}', "newer_version"),
        (b'{"type": "thread.stop_requested", "v": "one"}', "invalid_payload"),
        (b'{"type": "thread.stop_requested", "v": 1, "user_id": 5}', "invalid_payload"),
    ],
)
def test_undecodable_records_raise_decode_error_with_reason(value: bytes, reason: str) -> None:
    """Every way a record can be broken maps to a DecodeError with a short reason."""
    with pytest.raises(DecodeError) as info:
        codec_for(THREAD_INBOX).decode(value)
    assert info.value.reason == reason


def test_record_without_version_is_read_as_current() -> None:
    """A value written by a plain producer without `v` decodes at the current version."""
    codec = codec_for(THREAD_INBOX)
    obj = msgspec.json.decode(codec.encode_value(sample(StopRequested, key="5:0")))
    del obj["v"]
    assert codec.decode(msgspec.json.encode(obj)) == sample(StopRequested, key="5:0")


def test_every_topic_has_a_codec_and_dead_letter_topics_do_not() -> None:
    """Data topics get a codec; raw dead-letter topics refuse one."""
    for spec in TOPICS:
        assert codec_for(spec).topic is spec
        with pytest.raises(ValueError):
            Codec(spec.dead_letter())


def test_id_fields_reject_strings_that_are_not_36_characters() -> None:
    """An id of the wrong length is an invalid payload."""
    codec = codec_for(THREAD_INBOX)
    value = codec.encode_value(sample(StopRequested, key="5:0"))
    broken = value.replace(sample(StopRequested).id.encode(), b"not-a-uuid")
    with pytest.raises(DecodeError) as info:
        codec.decode(broken)
    assert info.value.reason == "invalid_payload"

"""Upcasting of superseded record versions on read."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from events.catalog import THREAD_EVENTS
from events.codec import Codec, DecodeError, codec_for
from events.legacy import TurnFailedV1
from events.samples import sample
from events.thread import TurnFailed
from events.upcasting import UPCASTERS, UpcastError, Upcasters


def _v1(error: str) -> bytes:
    record = msgspec.structs.replace(sample(TurnFailedV1, key="-5:0"), error=error)
    return msgspec.json.encode(record)


@pytest.mark.parametrize(
    ("error", "error_class", "message", "retryable"),
    [
        ("overloaded_error: Overloaded", "overloaded", "Overloaded", True),
        ("rate_limit_error: slow down", "rate_limited", "slow down", True),
        (
            "invalid_request_error: prompt is too long",
            "invalid_request",
            "prompt is too long",
            False,
        ),
        ("boom", "internal", "boom", False),
        ("KeyError: 'x'", "internal", "KeyError: 'x'", False),
    ],
)
def test_turn_failed_v1_is_upcast_to_v2(
    error: str, error_class: str, message: str, retryable: bool
) -> None:
    """A stored v1 turn_failed decodes as v2 with its free-text error classified."""
    record = codec_for(THREAD_EVENTS).decode(_v1(error))
    assert isinstance(record, TurnFailed)
    assert record.v == 2
    assert (record.error_class, record.message, record.retryable) == (
        error_class,
        message,
        retryable,
    )
    old = sample(TurnFailedV1, key="-5:0")
    assert (record.id, record.turn_id, record.partial_usage) == (
        old.id,
        old.turn_id,
        old.partial_usage,
    )


def test_upcast_record_reencodes_at_the_current_version() -> None:
    """Re-encoding an upcast record writes v2 in the value and the header."""
    codec = codec_for(THREAD_EVENTS)
    record = codec.decode(_v1("overloaded_error: x"))
    _, value, headers = codec.encode(record)
    assert msgspec.json.decode(value)["v"] == 2
    assert ("schema-version", b"2") in headers
    assert "error" not in msgspec.json.decode(value)


def test_missing_upcaster_is_a_decode_error() -> None:
    """Without an upcaster chain an old record fails with reason upcast_failed."""
    codec = Codec(THREAD_EVENTS, upcasters=Upcasters())
    with pytest.raises(DecodeError) as info:
        codec.decode(_v1("boom"))
    assert info.value.reason == "upcast_failed"
    assert info.value.event_type == "thread.turn_failed"
    assert info.value.version == 1


def test_upcasters_chain_and_stamp_the_version() -> None:
    """Steps run in order v1 -> v2 -> v3 and each result gets its new `v`."""
    registry = Upcasters()
    seen: list[int] = []

    @registry.register("x.y", 1)
    def one(raw: dict[str, Any]) -> dict[str, Any]:
        seen.append(raw["v"])
        return {**raw, "a": 1}

    @registry.register("x.y", 2)
    def two(raw: dict[str, Any]) -> dict[str, Any]:
        seen.append(raw["v"])
        return {**raw, "b": raw["a"] + 1}

    assert registry.upcast({"type": "x.y", "v": 1}, "x.y", 3) == {
        "type": "x.y",
        "v": 3,
        "a": 1,
        "b": 2,
    }
    assert seen == [1, 2]


def test_registering_a_step_twice_is_refused() -> None:
    """Two upcasters for the same type and version would be ambiguous."""
    with pytest.raises(ValueError):
        UPCASTERS.register("thread.turn_failed", 1)(lambda raw: raw)


def test_non_integer_version_cannot_be_upcast() -> None:
    """A version that is not an integer is an UpcastError."""
    with pytest.raises(UpcastError):
        Upcasters().upcast({"v": "1"}, "x.y", 2)

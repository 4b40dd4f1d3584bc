"""Deterministic sample instances of every record type (golden files, docs, smoke tests).

Built from the type hints, so a new record type gets a sample without extra code. Optional
fields are filled (``X | None`` takes ``X``), sequences hold one element, so a sample shows
every field of the wire shape.
"""

from __future__ import annotations

import types
import typing
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import msgspec

from events.envelope import Envelope
from events.ids import Id
from events.keys import GLOBAL_KEY, KeyKind

T = TypeVar("T")

SAMPLE_TIME: Final = datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
SAMPLE_ID: Final = "01968c2b-ec9b-7000-8000-000000000001"
SAMPLE_CORRELATION_ID: Final = "01968c2b-ec9b-7000-8000-000000000000"
SAMPLE_KEYS: Final[dict[KeyKind, str]] = {
    "thread": "-1001234567890:42",
    "user": "5551234",
    "global": GLOBAL_KEY,
}

_BY_NAME: Final[dict[str, Any]] = {
    "producer": "sample-producer",
    "model": "claude-sonnet-4-6",
    "previous_model": "claude-haiku-4-5-20251001",
    "default_model": "claude-sonnet-4-6",
    "currency": "XTR",
    "chat_type": "supergroup",
    "kind": "document",
    "mime_type": "application/pdf",
    "file_name": "report.pdf",
    "tool_name": "execute_python",
    "stop_reason": "end_turn",
    "error_class": "overloaded",
    "reason": "stop_command",
    "source": "model_call",
    "size_class": "1k",
    "provider": "anthropic_files",
    "thread_key": "-1001234567890:42",
    "text": "Hello, Claude!",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "stage": "declined",
    "error": "overloaded_error: Overloaded",
    "price_version": "2026-05-01",
    "unit": "per_million_tokens",
    "item": "input_tokens",
}
_DECIMALS: Final[dict[str, Decimal]] = {
    "owner_margin": Decimal("0.10"),
    "previous_owner_margin": Decimal("0.05"),
    "usd_per_star": Decimal("0.013"),
    "withdrawal_fee": Decimal("0.35"),
    "topics_fee": Decimal("0.15"),
    "unit_price": Decimal("3"),
}


def sample(cls: type[T], *, key: str | None = None) -> T:
    """A sample instance of a record or payload struct (``key`` for records)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):  # type: ignore[arg-type]
        if field.name == "v":
            continue
        values[field.name] = _value(field.name, hints[field.name])
    if issubclass(cls, Envelope):
        values.update(
            id=SAMPLE_ID,
            occurred_at=SAMPLE_TIME,
            key=key or SAMPLE_KEYS["user"],
            causation_id=SAMPLE_CORRELATION_ID,
            correlation_id=SAMPLE_CORRELATION_ID,
        )
    return cls(**values)


def _value(name: str, tp: Any) -> Any:
    if tp == Id:
        return str(uuid.UUID(int=uuid.UUID(SAMPLE_ID).int + 1 + (sum(map(ord, name)) % 4096)))
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _value(name, typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return _value(name, next(a for a in typing.get_args(tp) if a is not type(None)))
    if origin is typing.Literal:
        return typing.get_args(tp)[0]
    if origin is tuple:
        return (_value(name, typing.get_args(tp)[0]),)
    if origin is dict:
        if typing.get_args(tp)[1:] == (str,):  # a map of texts (e.g. a refusal's values)
            return {"paid": "2026-06-01", "days": "30"}
        return {"code": "print(2 + 2)", "timeout_seconds": 30}
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return sample(tp)
    if tp is bool:
        return name in {"ok", "paid", "retryable", "server_side"}
    if tp is int:
        return _int(name)
    if tp is str:
        return _BY_NAME.get(name, f"sample {name}")
    if tp is Decimal:
        return _DECIMALS.get(name, Decimal("0.012345"))
    if tp is datetime:
        return SAMPLE_TIME
    raise TypeError(f"no sample for {name}: {tp!r}")


def _int(name: str) -> int:
    if name.endswith("chat_id"):
        return -1001234567890
    if name.endswith("user_id"):
        return 5551234
    if name == "message_thread_id":
        return 42
    if name == "stars":
        return 100
    if name.endswith("tokens"):
        return 1200
    return 7

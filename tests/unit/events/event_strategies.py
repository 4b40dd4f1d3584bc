"""Hypothesis strategies for every record type, built from the struct type hints."""

from __future__ import annotations

import types
import typing
from datetime import UTC
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import strategies as st

from events.catalog import topic_of
from events.envelope import Envelope, event_type
from events.ids import Id

_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_TEXT = st.text(max_size=40)
_DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 30
)
_DATETIMES = st.datetimes(timezones=st.just(UTC))
_JSON = st.recursive(
    st.none() | st.booleans() | _INT64 | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_KEYS = {
    "thread": st.builds(lambda c, t: f"{c}:{t}", _INT64, st.integers(min_value=0, max_value=2**31)),
    "user": st.integers(min_value=0, max_value=2**53).map(str),
    "global": st.just("global"),
}


def records(cls: type[Envelope]) -> st.SearchStrategy[Envelope]:
    """Arbitrary valid instances of a record class, with a key valid for its topic."""
    key_kind = topic_of(event_type(cls)).key_kind
    return _struct(cls, overrides={"key": _KEYS[key_kind], "occurred_at": _DATETIMES})


def _struct(cls: type[Any], overrides: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in msgspec.structs.fields(cls):
        if field.name == "v":
            continue
        override = overrides.get(field.name)
        fields[field.name] = override if override is not None else _for(hints[field.name])
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


def _for(tp: Any) -> st.SearchStrategy[Any]:
    if tp == Id:
        return st.uuids().map(str)
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _for(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return st.one_of(
            [_for(a) if a is not type(None) else st.none() for a in typing.get_args(tp)]
        )
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(tp))
    if origin is tuple:
        return st.lists(_for(typing.get_args(tp)[0]), max_size=3).map(tuple)
    if origin is dict:
        if typing.get_args(tp)[1:] == (str,):  # a map of texts
            return st.dictionaries(_TEXT, _TEXT, max_size=3)
        return st.dictionaries(_TEXT, _JSON, max_size=3)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _struct(tp, overrides={})
    simple: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: _INT64,
        str: _TEXT,
        Decimal: _DECIMALS,
    }
    if tp in simple:
        return simple[tp]
    if getattr(tp, "__name__", "") == "datetime":
        return _DATETIMES
    raise TypeError(f"no strategy for {tp!r}")

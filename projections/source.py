"""Where a record was read from: the position that versions every row it touches."""

from __future__ import annotations

from typing import NamedTuple

import msgspec

_JSON = msgspec.json.Encoder(decimal_format="string")


class Source(NamedTuple):
    """A record's topic (catalog name, unprefixed), partition and offset (a named tuple:
    a replay builds one per record)."""

    topic: str
    partition: int
    offset: int


def to_json(value: object) -> str:
    """JSON text for a ``jsonb`` column (structs, tuples, dicts; money as strings)."""
    return _JSON.encode(value).decode()

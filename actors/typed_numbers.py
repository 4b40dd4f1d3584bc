"""Numbers and ids typed by a person, read with a bounded grammar before any conversion.

Every number a user or an admin types (Stars in ``/pay``, ``/topup`` amounts, ``/set_margin``,
user ids, ``/refund`` transaction ids) is read here, so no input can cost more than a few
microseconds: the text's length, its characters, the digits before and after the point and
the exponent's digits are all checked on the string, and only a string that passes becomes a
``Decimal`` or an ``int``. (``int(Decimal("1e999999999"))`` builds a billion-digit integer:
seconds to minutes of CPU in the event loop, for every chat.) A refusal is a
:class:`NumberRefused` (a ``ValueError``) whose :meth:`~actors.texts.refusal.Refusal.text` is
shown to the person in their language.
Range rules (how many Stars, which margin) stay with their owners; this module only makes the
conversion safe and the refusal clear.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from actors.texts.refusal import Refusal, Term

MAX_NUMBER_CHARS: Final = 128
"""Longest number text read at all (sign, digits, point, exponent, % or $ included)."""
MAX_INTEGER_DIGITS: Final = 18
"""Significant digits before the point: 10**18 is beyond every amount the bot takes."""
MAX_FRACTION_DIGITS: Final = 100
"""Digits after the point; what a rule then accepts is usually far fewer."""
MAX_EXPONENT_DIGITS: Final = 2
"""``1e-1`` and ``1e3`` are read; ``1e999999999`` is refused on sight."""
MAX_ID_DIGITS: Final = 19
MAX_ID: Final = 2**63 - 1
"""Telegram ids fit a signed 64-bit integer (PostgreSQL ``bigint``)."""
MAX_TOKEN_CHARS: Final = 200
"""Longest transaction id read (Telegram's are far shorter)."""

_NUMBER: Final = re.compile(
    r"(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?"
)
_NON_FINITE: Final = frozenset({"nan", "snan", "inf", "infinity"})
_SHOWN_CHARS: Final = 24


class NumberRefused(Refusal):
    """Typed input that is not an acceptable number or id; :meth:`text` words it for the
    person in their language (``str()``: English)."""


NUMBER: Final = Term("number.noun.number")
"""What a number is called when none more precise is given (``noun``)."""


def shown(text: str) -> str:
    """``text`` quoted for a refusal message, cut short if long."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return repr(text[:_SHOWN_CHARS] + "…")


def parse_decimal(text: str, *, what: Term, example: str, noun: Term = NUMBER) -> Decimal:
    """A finite decimal number (``12``, ``-0.5``, ``1e3``) of bounded size, else
    :class:`NumberRefused` naming ``what`` (a catalog term, e.g. "the amount"), what was
    expected (``noun``) and an ``example`` (a :class:`Term` or literal)."""
    raw = text.strip()
    said = {"what": what, "example": example}
    if len(raw) > MAX_NUMBER_CHARS:
        raise NumberRefused("number.too_long", noun=noun, **said)
    if raw.lstrip("+-").lower() in _NON_FINITE:
        raise NumberRefused("number.not_finite", **said)
    match = _NUMBER.fullmatch(raw) if raw.isascii() else None
    if match is None or not (match["int"] or match["frac"]):
        raise NumberRefused("number.not_a_number", shown=shown(raw), noun=noun, example=example)
    if len(match["int"].lstrip("0")) > MAX_INTEGER_DIGITS:
        raise NumberRefused("number.out_of_range", **said)
    if len(match["frac"] or "") > MAX_FRACTION_DIGITS:
        raise NumberRefused("number.too_many_places", **said)
    exponent = match["exp"]
    if exponent is not None and len(exponent.lstrip("+-").lstrip("0")) > MAX_EXPONENT_DIGITS:
        raise NumberRefused("number.out_of_range", **said)
    return Decimal(raw)


def parse_whole(text: str, *, what: Term, low: int, high: int, unit: Term | str = "") -> int:
    """A whole number from ``low`` to ``high`` (``1e3`` is 1000), else
    :class:`NumberRefused` saying what is accepted."""
    bounds = {"low": low, "high": high, "unit": unit}
    try:
        value = parse_decimal(text, what=what, example=str(low))
    except NumberRefused as exc:
        raise NumberRefused("number.send_whole", problem=exc, **bounds) from None
    if value != value.to_integral_value():
        raise NumberRefused("number.not_whole", what=what, **bounds)
    if not low <= value <= high:
        raise NumberRefused("number.between", what=what, **bounds)
    return int(value)


def parse_user_id(text: str) -> int:
    """A numeric Telegram user id (1 to 2**63 - 1), else :class:`NumberRefused`."""
    raw = text.strip()
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= MAX_ID_DIGITS):
        raise NumberRefused("number.not_user_id", shown=shown(raw))
    value = int(raw)
    if not 0 < value <= MAX_ID:
        raise NumberRefused("number.not_user_id", shown=shown(raw))
    return value


def parse_token(text: str, *, what: Term, usage: Term) -> str:
    """One word of visible ASCII (a transaction id), at most :data:`MAX_TOKEN_CHARS`
    characters, else :class:`NumberRefused` with ``usage`` (a catalog term)."""
    raw = text.strip()
    if not raw or len(raw) > MAX_TOKEN_CHARS:
        raise NumberRefused(str(usage))
    if not all("!" <= c <= "~" for c in raw):
        raise NumberRefused("number.token_chars", what=what, usage=usage)
    return raw


_USERNAME: Final = re.compile(r"@[A-Za-z0-9_]{1,32}")


def parse_username(text: str) -> str:
    """A Telegram ``@username`` (letters, digits, underscores; at most 32), else
    :class:`NumberRefused`."""
    raw = text.strip()
    if _USERNAME.fullmatch(raw) is None:
        raise NumberRefused("number.not_username", shown=shown(raw))
    return raw

"""Numbers and ids typed by a person, read with a bounded grammar before any conversion.

Every number a user or an admin types (Stars in ``/pay``, ``/topup`` amounts, ``/set_margin``,
user ids, ``/refund`` transaction ids) is read here, so no input can cost more than a few
microseconds: the text's length, its characters, the digits before and after the point and
the exponent's digits are all checked on the string, and only a string that passes becomes a
``Decimal`` or an ``int``. (``int(Decimal("1e999999999"))`` builds a billion-digit integer:
seconds to minutes of CPU in the event loop, for every chat.) A refusal is a
:class:`NumberRefused` (a ``ValueError``) whose message can be shown to the person as is.
Range rules (how many Stars, which margin) stay with their owners; this module only makes the
conversion safe and the refusal clear.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

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


class NumberRefused(ValueError):
    """Typed input that is not an acceptable number or id; the message is for the person."""


def shown(text: str) -> str:
    """``text`` quoted for a refusal message, cut short if long."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return repr(text[:_SHOWN_CHARS] + "…")


def parse_decimal(text: str, *, what: str, example: str, noun: str = "a number") -> Decimal:
    """A finite decimal number (``12``, ``-0.5``, ``1e3``) of bounded size, else
    :class:`NumberRefused` naming ``what`` (e.g. ``"the amount"``), what was expected
    (``noun``) and an ``example``."""
    raw = text.strip()
    if len(raw) > MAX_NUMBER_CHARS:
        raise NumberRefused(f"{what} is too long to be {noun} (e.g. {example})")
    if raw.lstrip("+-").lower() in _NON_FINITE:
        raise NumberRefused(f"{what} must be a finite number (e.g. {example})")
    match = _NUMBER.fullmatch(raw) if raw.isascii() else None
    if match is None or not (match["int"] or match["frac"]):
        raise NumberRefused(f"{shown(raw)} is not {noun} (e.g. {example})")
    if len(match["int"].lstrip("0")) > MAX_INTEGER_DIGITS:
        raise NumberRefused(f"{what} is out of range (e.g. {example})")
    if len(match["frac"] or "") > MAX_FRACTION_DIGITS:
        raise NumberRefused(f"{what} has too many decimal places (e.g. {example})")
    exponent = match["exp"]
    if exponent is not None and len(exponent.lstrip("+-").lstrip("0")) > MAX_EXPONENT_DIGITS:
        raise NumberRefused(f"{what} is out of range (e.g. {example})")
    return Decimal(raw)


def parse_whole(text: str, *, what: str, low: int, high: int, unit: str = "") -> int:
    """A whole number from ``low`` to ``high`` (``1e3`` is 1000), else
    :class:`NumberRefused` saying what is accepted."""
    accepted = f"a whole number between {low} and {high}{unit}"
    try:
        value = parse_decimal(text, what=what, example=str(low))
    except NumberRefused as exc:
        raise NumberRefused(f"{exc}; send {accepted}") from None
    if value != value.to_integral_value():
        raise NumberRefused(f"{what} must be {accepted}, in whole numbers")
    if not low <= value <= high:
        raise NumberRefused(f"{what} must be between {low} and {high}{unit}")
    return int(value)


def parse_user_id(text: str) -> int:
    """A numeric Telegram user id (1 to 2**63 - 1), else :class:`NumberRefused`."""
    raw = text.strip()
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= MAX_ID_DIGITS):
        raise NumberRefused(f"{shown(raw)} is not a numeric Telegram user id")
    value = int(raw)
    if not 0 < value <= MAX_ID:
        raise NumberRefused(f"{shown(raw)} is not a numeric Telegram user id")
    return value


def parse_token(text: str, *, what: str, usage: str) -> str:
    """One word of visible ASCII (a transaction id), at most :data:`MAX_TOKEN_CHARS`
    characters, else :class:`NumberRefused` with ``usage``."""
    raw = text.strip()
    if not raw or len(raw) > MAX_TOKEN_CHARS:
        raise NumberRefused(usage)
    if not all("!" <= c <= "~" for c in raw):
        raise NumberRefused(f"{what} is one word of letters, digits and signs; {usage}")
    return raw


_USERNAME: Final = re.compile(r"@[A-Za-z0-9_]{1,32}")


def parse_username(text: str) -> str:
    """A Telegram ``@username`` (letters, digits, underscores; at most 32), else
    :class:`NumberRefused`."""
    raw = text.strip()
    if _USERNAME.fullmatch(raw) is None:
        raise NumberRefused(f"{shown(raw)} is not a Telegram @username")
    return raw

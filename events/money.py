"""Money: USD amounts are :class:`decimal.Decimal`, serialized as JSON strings, never floats.

Telegram Stars (currency ``XTR``) are whole numbers and stay ``int``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final, TypeAlias

Usd: TypeAlias = Decimal
"""An amount in US dollars; signed where the field says so (ledger amounts)."""

Stars: TypeAlias = int
"""A whole number of Telegram Stars."""

STARS_CURRENCY: Final = "XTR"
ZERO: Final = Decimal(0)


def usd(value: str | int | Decimal) -> Decimal:
    """A finite USD amount from a string, int or Decimal; floats are refused on purpose."""
    if isinstance(value, float):  # pragma: no cover - guarded by the type, kept for callers
        raise TypeError("money is never a float; pass a string")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    return amount

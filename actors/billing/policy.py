"""Balance policy: every rule about who may spend, get credited or refunded, in one place.

* a new user gets :data:`STARTER_CREDIT` once;
* a request may start while the balance is above zero (a soft check: the turn's cost may
  take it below zero once, then requests are refused until a top-up);
* paid tools are refused while the balance is below zero;
* a cancelled turn is charged for the usage it actually consumed, nothing more (the thread
  actor reports partial usage as ``source="cancelled_call"``; billing prices exactly that);
* Stars convert to USD as ``stars x 0.013 x (1 - k1 - k2 - k3)``, k1 + k2 + k3 < 1 strictly
  (at 1 every invoice would credit $0), so k3 is at most :data:`MAX_OWNER_MARGIN`;
* a refund is for the payer only, within :data:`REFUND_WINDOW` of the payment, and only
  when the *available* balance still covers the credited amount;
* a running model call holds a reservation of its estimated cost (:func:`reservation_for`);
  the balance checks and ``/refund`` use ``available = balance - open reservations``.
  A reservation is settled by the call's charge or released when the turn ends without
  one; one never settled stops holding :data:`RESERVATION_TTL` after it was made (longer
  than any turn runs), so a crashed worker cannot lock a balance for good.

The thread actor and the gateway read a balance from a view and ask these functions; they
hold no thresholds of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Final

from actors import typed_numbers
from actors.texts.refusal import Refusal, Term

STARTER_CREDIT: Final = Decimal("1.00")
USD_PER_STAR: Final = Decimal("0.013")
WITHDRAWAL_FEE: Final = Decimal("0.35")
"""k1: Telegram's cut when Stars are withdrawn."""
TOPICS_FEE: Final = Decimal("0.15")
"""k2: the fee for bots using topics."""
DEFAULT_OWNER_MARGIN: Final = Decimal("0")
"""k3 until an admin sets one with ``/set_margin``."""
MARGIN_PLACES: Final = 4
"""k3 is set to at most 4 decimal places (0.0001 = 0.01 %): short, exact invoice payloads."""
MARGIN_QUANTUM: Final = Decimal(1).scaleb(-MARGIN_PLACES)
MAX_OWNER_MARGIN: Final = Decimal(1) - WITHDRAWAL_FEE - TOPICS_FEE - MARGIN_QUANTUM
MARGIN: Final = Term("number.what.margin")
MARGIN_EXAMPLE: Final = Term("number.example.margin")
"""The largest k3: one quantum below what would make every credit $0."""
REFUND_WINDOW: Final = timedelta(days=30)
RESERVATION_TTL: Final = timedelta(minutes=30)
"""How long an unsettled reservation holds (a turn's four model calls take minutes)."""
MAX_RESERVATION: Final = Decimal("1000")
"""A reservation above this is refused as implausible (one model call)."""

STAR_PACKAGES: Final = (10, 50, 100, 250, 500)
CUSTOM_STARS_MIN: Final = 1
CUSTOM_STARS_MAX: Final = 2500

MAX_ADMIN_AMOUNT: Final = Decimal("100000")
"""A top-up beyond this (either sign) is refused as a likely typo."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """An allow/deny answer with the reason a user is shown when denied."""

    allowed: bool
    reason: str = ""


ALLOWED: Final = Verdict(True)
UNREADABLE_BALANCE: Final = "your balance cannot be read right now; please contact support"
"""Shown when a balance is not a finite number (only a corrupt ledger entry can cause it)."""


def may_start_request(balance: Decimal | None) -> Verdict:
    """Whether a new request may start: balance strictly above zero (unknown user: no)."""
    if balance is None:
        return Verdict(False, "no balance yet: your account is being set up, try again")
    if not balance.is_finite():
        return Verdict(False, UNREADABLE_BALANCE)
    if balance > 0:
        return ALLOWED
    return Verdict(False, f"your balance is ${format_usd(balance)}; top up with /pay")


def may_use_paid_tool(balance: Decimal | None) -> Verdict:
    """Whether a paid tool may run: refused while the balance is below zero."""
    if balance is None:
        return Verdict(False, "no balance yet")
    if not balance.is_finite():
        return Verdict(False, UNREADABLE_BALANCE)
    if balance < 0:
        return Verdict(
            False, f"paid tools are unavailable while the balance is ${format_usd(balance)}"
        )
    return ALLOWED


def margin_refusal(owner_margin: Decimal) -> Refusal | None:
    """Why ``owner_margin`` (k3) is not acceptable, or ``None``: 0 <= k3, k1 + k2 + k3 < 1."""
    if not owner_margin.is_finite():
        return Refusal("policy.margin_not_finite")
    if owner_margin < 0:
        return Refusal("policy.margin_negative")
    if owner_margin > MAX_OWNER_MARGIN:  # bounded before any arithmetic on it
        return Refusal(
            "policy.margin_too_high", k1=WITHDRAWAL_FEE, k2=TOPICS_FEE, limit=MAX_OWNER_MARGIN
        )
    return None


def margin_problem(owner_margin: Decimal) -> str | None:
    """:func:`margin_refusal` in English (records, logs)."""
    refusal = margin_refusal(owner_margin)
    return None if refusal is None else str(refusal)


def parse_margin(text: str) -> Decimal:
    """``"0.1"`` or ``"10%"`` -> Decimal("0.1"); raises a :class:`Refusal` with a reason.

    The result is normalised (no sign on zero, no exponent, at most :data:`MARGIN_PLACES`
    decimals) so it always fits the invoice payload; anything else is refused, never rounded.
    """
    raw = text.strip()
    percent = raw.endswith("%")
    number = raw.removesuffix("%").strip()
    value = typed_numbers.parse_decimal(number, what=MARGIN, example=MARGIN_EXAMPLE)
    if value.is_signed():
        raise Refusal("policy.margin_negative")
    if percent:
        value = value.scaleb(-2)
    refusal = margin_refusal(value)
    if refusal is not None:
        raise refusal
    quantized = value.quantize(MARGIN_QUANTUM)
    if quantized != value:
        percent_quantum = f"{MARGIN_QUANTUM.scaleb(2).normalize():f}"
        raise Refusal(
            "policy.margin_places",
            places=MARGIN_PLACES,
            quantum=MARGIN_QUANTUM,
            percent=percent_quantum,
        )
    normalized = quantized.normalize()
    return normalized if normalized else Decimal(0)


def stars_to_usd(stars: int, owner_margin: Decimal) -> Decimal:
    """USD credited for ``stars``: stars x 0.013 x (1 - k1 - k2 - k3), exact."""
    problem = margin_problem(owner_margin)
    if problem:
        raise ValueError(problem)
    return stars * USD_PER_STAR * (1 - WITHDRAWAL_FEE - TOPICS_FEE - owner_margin)


def stars_amount_problem(stars: int) -> str | None:
    """Why ``stars`` is not a valid purchase amount, or ``None``."""
    if not CUSTOM_STARS_MIN <= stars <= CUSTOM_STARS_MAX:
        return f"the amount must be between {CUSTOM_STARS_MIN} and {CUSTOM_STARS_MAX} Stars"
    return None


def refund_problem(
    *,
    payer_id: int,
    requested_by: int,
    paid_at: datetime,
    requested_at: datetime,
    credited: Decimal,
    balance: Decimal,
    already_refunded: bool,
) -> tuple[str, Refusal] | None:
    """``(reason code, why)`` when a refund must be refused, else ``None``.

    Reason codes are the ledger's rejection reasons (``not_payer``, ``already_refunded``,
    ``refund_window_expired``, ``balance_too_low``); ``why`` words the specifics in any
    language (``str()``: English, the ledger record's detail).
    """
    if requested_by != payer_id:
        return "not_payer", Refusal("refusal.not_payer")
    if already_refunded:
        return "already_refunded", Refusal("refusal.already_refunded")
    if requested_at - paid_at > REFUND_WINDOW:
        why = Refusal(
            "refusal_detail.refund_window_expired",
            days=REFUND_WINDOW.days,
            paid=f"{paid_at:%Y-%m-%d}",
        )
        return "refund_window_expired", why
    if not (balance.is_finite() and credited.is_finite()) or balance < credited:
        why = Refusal(
            "refusal_detail.balance_too_low",
            balance=format_usd(balance),
            credited=format_usd(credited),
        )
        return "balance_too_low", why
    return None


def reservation_problem(amount: Decimal) -> str | None:
    """Why ``amount`` cannot be reserved, or ``None``: finite, >= 0, at most the maximum."""
    if not amount.is_finite():
        return "a reservation must be a finite amount"
    if amount < 0:
        return "a reservation cannot be negative"
    if amount > MAX_RESERVATION:
        return f"a reservation must not exceed {MAX_RESERVATION} USD"
    return None


def admin_amount_refusal(amount: Decimal) -> Refusal | None:
    """Why an admin top-up ``amount`` is not acceptable, or ``None``."""
    if not amount.is_finite():
        return Refusal("policy.amount_not_finite")
    if amount == 0:
        return Refusal("policy.amount_zero")
    if abs(amount) > MAX_ADMIN_AMOUNT:
        return Refusal("policy.amount_too_large", limit=MAX_ADMIN_AMOUNT)
    return None


def admin_amount_problem(amount: Decimal) -> str | None:
    """:func:`admin_amount_refusal` in English (records, logs)."""
    refusal = admin_amount_refusal(amount)
    return None if refusal is None else str(refusal)


ADMIN_AMOUNT_PLACES: Final = 4


def parse_admin_amount(text: str) -> Decimal:
    """``"2.5"``, ``"$2.5"``, ``"-1"`` -> Decimal; a :class:`Refusal` (a ValueError) with
    the reason otherwise."""
    raw = text.strip()
    sign = "-" if raw.startswith("-") else ""
    number = raw.removeprefix("-").removeprefix("$")
    amount = typed_numbers.parse_decimal(
        sign + number,
        what=Term("number.what.amount"),
        example=Term("number.example.admin_amount"),
        noun=Term("number.noun.usd_amount"),
    )
    refusal = admin_amount_refusal(amount)
    if refusal is not None:
        raise refusal
    if amount != amount.quantize(Decimal(1).scaleb(-ADMIN_AMOUNT_PLACES)):
        raise Refusal("policy.amount_places", places=ADMIN_AMOUNT_PLACES)
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount


def format_usd(amount: Decimal) -> str:
    """Money for people, never more than there is: 4 decimals, trailing zeros trimmed down
    to 2; below a cent, 2 significant digits. Rounded toward zero."""
    if not amount.is_finite():
        return str(amount)  # never raise while reporting a corrupt figure
    if amount == 0:
        return "0.00"
    places = max(4, 1 - amount.adjusted()) if abs(amount) < Decimal("0.01") else 4
    shown = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    whole, _, frac = f"{shown:,.{places}f}".partition(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from actors.billing import payments, policy, replies


def test_requests_are_allowed_only_while_the_balance_is_above_zero() -> None:
    """Soft check: > 0 starts a request; 0, negative or unknown does not."""
    assert policy.may_start_request(Decimal("0.0001")).allowed
    assert not policy.may_start_request(Decimal(0)).allowed
    assert not policy.may_start_request(Decimal("-0.5")).allowed
    assert not policy.may_start_request(None).allowed
    assert "/pay" in policy.may_start_request(Decimal("-0.5")).reason


def test_paid_tools_are_refused_only_while_the_balance_is_negative() -> None:
    """A zero balance may still finish a turn's paid tool; a negative one may not."""
    assert policy.may_use_paid_tool(Decimal(0)).allowed
    assert not policy.may_use_paid_tool(Decimal("-0.01")).allowed


def test_stars_convert_at_0_013_minus_fees_and_margin() -> None:
    """USD = stars x 0.013 x (1 - 0.35 - 0.15 - k3), exact."""
    assert policy.stars_to_usd(100, Decimal(0)) == Decimal("0.65")
    assert policy.stars_to_usd(100, Decimal("0.1")) == Decimal("0.52")
    assert policy.stars_to_usd(2500, Decimal("0.4999")) == Decimal("0.00325")


def test_margin_must_keep_the_fee_sum_strictly_below_one() -> None:
    """k1 + k2 + k3 < 1 and k3 >= 0 (50 % used to be accepted and every invoice then
    credited $0); parse_margin accepts fractions and percents."""
    assert policy.parse_margin("0.1") == Decimal("0.1")
    assert policy.parse_margin("10%") == Decimal("0.1")
    assert policy.parse_margin("0.4999") == Decimal("0.4999")
    assert policy.margin_problem(Decimal("0.5")) is not None
    assert policy.margin_problem(Decimal("1e999999999")) is not None
    for bad in ("50%", "0.5", "0.51", "-0.1", "abc", "NaN"):
        with pytest.raises(ValueError):
            policy.parse_margin(bad)
    with pytest.raises(ValueError):
        policy.stars_to_usd(10, Decimal("0.6"))


def test_refund_rules_name_their_reason() -> None:
    """Payer only, not twice, within 30 days, and only while the balance covers the credit."""
    paid = datetime(2026, 1, 1, tzinfo=UTC)
    ok = {
        "payer_id": 1,
        "requested_by": 1,
        "paid_at": paid,
        "requested_at": paid + timedelta(days=30),
        "credited": Decimal("0.65"),
        "balance": Decimal("0.65"),
        "already_refunded": False,
    }
    assert policy.refund_problem(**ok) is None  # type: ignore[arg-type]
    cases = {
        "not_payer": {"requested_by": 2},
        "already_refunded": {"already_refunded": True},
        "refund_window_expired": {"requested_at": paid + timedelta(days=30, seconds=1)},
        "balance_too_low": {"balance": Decimal("0.64")},
    }
    for reason, change in cases.items():
        problem = policy.refund_problem(**{**ok, **change})  # type: ignore[arg-type,dict-item]
        assert problem is not None
        assert problem[0] == reason
        assert problem[1]


def test_usd_is_formatted_for_people_without_hiding_small_amounts() -> None:
    """Up to 4 decimals, never rounded up; tiny non-zero amounts keep 2 significant digits."""
    assert policy.format_usd(Decimal("1")) == "1.00"
    assert policy.format_usd(Decimal("0.999649")) == "0.9996"
    assert policy.format_usd(Decimal("-0.345")) == "-0.345"
    assert policy.format_usd(Decimal("0.000123")) == "0.00012"
    assert policy.format_usd(Decimal("0.000351")) == "0.00035"
    assert policy.format_usd(Decimal("12.34567")) == "12.3456"
    assert policy.format_usd(Decimal(1234)) == "1,234.00"


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_policy_and_replies_never_raise_on_a_non_finite_balance(raw: str) -> None:
    """A corrupt (non-finite) balance is refused with a reason, never an exception."""
    balance = Decimal(raw)
    assert not policy.may_start_request(balance).allowed
    assert not policy.may_use_paid_tool(balance).allowed
    assert policy.format_usd(balance)
    assert "top up" in replies.balance_report("en", balance, [])
    assert "/pay" in replies.balance_report("ru", balance, [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1", "0.1"),
        ("10%", "0.1"),
        ("10.5%", "0.105"),
        ("0", "0"),
        ("0%", "0"),
        ("0.10000", "0.1"),
        ("1e-1", "0.1"),
        ("0.4999", "0.4999"),
        ("0.0001", "0.0001"),
    ],
)
def test_parse_margin_normalises_to_at_most_four_places_without_sign_or_exponent(
    text: str, expected: str
) -> None:
    """Accepted margins come back normalised, so they always fit the invoice payload."""
    margin = policy.parse_margin(text)
    assert f"{margin:f}" == expected
    assert not margin.is_signed()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-0", "negative"),
        ("-0%", "negative"),
        ("-0.1", "negative"),
        ("NaN", "finite"),
        ("sNaN", "finite"),
        ("sNaN%", "finite"),
        ("Infinity%", "finite"),
        ("0.5", "must not exceed"),
        ("50%", "must not exceed"),
        ("0.51", "must not exceed"),
        ("51%", "must not exceed"),
        ("0." + "1" * 100, "decimal places"),
        ("33.333%", "decimal places"),
        ("²", "not a number"),
        ("abc", "not a number"),
    ],
)
def test_parse_margin_refuses_bad_input_with_a_reason(text: str, reason: str) -> None:
    """-0, NaN/sNaN (with or without %), out of [0, 0.5], over-precise or non-ASCII: a
    ValueError naming why (sNaN% used to raise InvalidOperation; -0 broke every invoice)."""
    with pytest.raises(ValueError, match=reason):
        policy.parse_margin(text)


def test_an_invoice_at_any_accepted_margin_fits_telegrams_128_byte_payload() -> None:
    """Largest user id, 2500 Stars, the longest accepted margin: the payload fits."""
    margin = policy.parse_margin("0.4999")
    invoice = payments.invoice_for("ru", 2**63 - 1, 2500, margin, "f" * 32)
    encoded = invoice.payload.encode()
    assert len(encoded.encode()) <= 128
    assert payments.parse_payload(encoded).owner_margin == margin


@pytest.mark.parametrize(
    ("text", "expected"), [("2.5", "2.5"), ("$2.5", "2.5"), ("-1", "-1"), ("1e3", "1000")]
)
def test_parse_admin_amount_accepts_usd_amounts(text: str, expected: str) -> None:
    """Plain, $-prefixed and negative amounts; no exponent in the result."""
    assert f"{policy.parse_admin_amount(text):f}" == expected


@pytest.mark.parametrize(
    "text", ["²", "\u0665", "NaN", "sNaN", "Infinity", "0", "1e30", "0.00001", "abc"]
)
def test_parse_admin_amount_refuses_bad_input_with_a_reason(text: str) -> None:
    """Every bad /topup amount is a ValueError with a message, never another exception."""
    with pytest.raises(ValueError, match=r"."):
        policy.parse_admin_amount(text)

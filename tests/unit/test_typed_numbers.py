"""The bounded grammar for numbers and ids people type (actors.typed_numbers) and the parsers
built on it (/pay Stars, /topup amounts and targets, /set_margin, /refund ids)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors import typed_numbers
from actors.billing import payments, policy
from actors.typed_numbers import NumberRefused

HOSTILE = [
    "1e999999999",
    "1E999999999",
    "-1e999999999",
    "1e-999999999",
    "9" * 10_000,
    "0." + "0" * 10_000 + "1",
    "1" + "0" * 5000 + "e5",
    "1e+0000000000000000099999",
    "NaN",
    "sNaN",
    "-Infinity",
    "inf",
    "٣",  # Arabic-Indic digit
    "\uff11\uff12",  # fullwidth digits
    "1_000",
    " ",
    "",
    ".",
    "e5",
    "1e",
    "--1",
    "0x10",
    "1\x00",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_numbers_are_refused_by_every_parser_with_a_message(text: str) -> None:
    """Huge exponents, thousands of digits, non-finite words and non-ASCII digits: every
    parser refuses them with a short ValueError message and never converts them."""
    for parse in (
        payments.parse_custom_amount,
        policy.parse_margin,
        policy.parse_admin_amount,
        typed_numbers.parse_user_id,
    ):
        with pytest.raises(ValueError) as caught:
            parse(text)
        assert 0 < len(str(caught.value)) < 300


@pytest.mark.parametrize("text", ["1e999999999", "1e99", "99999999999999999999999999"])
def test_pay_refuses_huge_stars_without_converting_them(text: str) -> None:
    """/pay 1e999999999 (which froze the gateway) is refused as out of range."""
    with pytest.raises(NumberRefused, match=r"out of range|between"):
        payments.parse_custom_amount(text)


@given(st.integers(min_value=1, max_value=2500))
def test_every_allowed_stars_amount_is_read_back(stars: int) -> None:
    """Every whole amount from 1 to 2500 Stars is accepted as typed (also as 1e3-style)."""
    assert payments.parse_custom_amount(str(stars)) == stars
    assert payments.parse_custom_amount(f" {stars}⭐ ") == stars


@given(st.text(max_size=300))
def test_any_text_is_either_a_bounded_decimal_or_a_refusal(text: str) -> None:
    """Whatever is typed, parse_decimal returns a finite number with a bounded exponent or
    refuses it with NumberRefused (never another exception)."""
    try:
        value = typed_numbers.parse_decimal(text, what="the amount", example="1")
    except NumberRefused:
        return
    assert value.is_finite()
    assert value == 0 or abs(value.adjusted()) <= 10**typed_numbers.MAX_EXPONENT_DIGITS + 200


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**6), max_value=10**6
    )
)
def test_plain_decimals_round_trip(value: Decimal) -> None:
    """A decimal written in plain notation is read back exactly."""
    assert typed_numbers.parse_decimal(f"{value:f}", what="x", example="1") == value


@given(st.integers(min_value=1, max_value=typed_numbers.MAX_ID))
def test_user_ids_round_trip_and_bigger_ones_are_refused(user_id: int) -> None:
    """Every id from 1 to 2**63 - 1 is read back; 0, 2**63 and longer ones are refused."""
    assert typed_numbers.parse_user_id(str(user_id)) == user_id
    for bad in ("0", str(2**63), "1" * 20, "-5", "+5", "5.0"):
        with pytest.raises(NumberRefused):
            typed_numbers.parse_user_id(bad)


@given(st.text(max_size=400))
def test_refund_ids_are_one_bounded_visible_ascii_word(text: str) -> None:
    """/refund takes one word of visible ASCII up to 200 characters (no NUL, no spaces)."""
    try:
        token = payments.parse_refund_argument(text)
    except ValueError:
        return
    assert 0 < len(token) <= typed_numbers.MAX_TOKEN_CHARS
    assert all("!" <= c <= "~" for c in token)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("@ada_99", True),
        ("@a", True),
        ("@" + "a" * 33, False),
        ("@ada lovelace", False),
        ("@", False),
    ],
)
def test_usernames_are_bounded(text: str, ok: bool) -> None:
    """/topup @username: letters, digits and underscores, at most 32."""
    if ok:
        assert typed_numbers.parse_username(text) == text
    else:
        with pytest.raises(NumberRefused):
            typed_numbers.parse_username(text)


@given(st.decimals(min_value=0, max_value=Decimal("0.4999"), places=4, allow_nan=False))
def test_set_margin_accepts_every_bounded_margin(margin: Decimal) -> None:
    """Every margin in [0, 0.4999] with at most 4 places is accepted as a fraction and as %
    (k1 + k2 + k3 stays strictly below 1: 0.35 + 0.15 + 0.5 would credit $0)."""
    assert policy.parse_margin(f"{margin:f}") == margin
    assert policy.parse_margin(f"{margin.scaleb(2):f}%") == margin

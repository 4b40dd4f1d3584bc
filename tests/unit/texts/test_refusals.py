"""Refusals worded in the user's language: admin commands' argument errors (/topup,
/set_margin, /announce, /refund) and refund refusals with their specifics, in Russian as
in English."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors import typed_numbers
from actors.billing import commands, policy, replies
from actors.billing.ledger import BillingState, decide, evolve
from actors.billing.payments import InvoicePayload, parse_custom_amount, parse_refund_argument
from actors.broadcast.announce_args import AnnounceRefused, parse_announce
from actors.texts import say
from actors.texts.refusal import Refusal
from actors.thread.models import SONNET
from events.billing import OperationRejected
from events.usage import Usage
from infra.gateway.routers.admin import Refused, _amount

T0 = datetime(2026, 6, 1, tzinfo=UTC)
UID = 42

ENGLISH_PROSE = re.compile(r"\b[a-z]{3,} [a-z]{2,}\b")
"""Two English words in a row (a Russian text may still name /commands, ids and USD)."""


def _russian(text: str) -> bool:
    return bool(re.search("[\u0430-\u044f\u0451]", text)) and ENGLISH_PROSE.search(text) is None


BAD_MARGINS = ["abc", "nan", "-0.1", "1e999", "0.12345", "0.99", "1" * 200, "0.1" + "1" * 120]
BAD_AMOUNTS = ["x", "inf", "0", "1e9", "2.123456", "$", "9" * 30]


@pytest.mark.parametrize("raw", BAD_MARGINS)
def test_set_margin_argument_errors_are_russian_for_a_russian_admin(raw: str) -> None:
    """Every /set_margin refusal reads in Russian (no English detail left), and in English
    as before."""
    with pytest.raises(Refusal) as caught:
        policy.parse_margin(raw)
    assert _russian(caught.value.text("ru")), caught.value.text("ru")
    assert caught.value.text("en") == str(caught.value)


@pytest.mark.parametrize("raw", BAD_AMOUNTS)
def test_topup_amount_errors_are_russian_at_the_admin_router(raw: str) -> None:
    """/topup's amount refusal, as the gateway's admin router answers it, is Russian."""
    with pytest.raises(Refused) as caught:
        _amount("ru", raw)
    assert _russian(str(caught.value)), str(caught.value)
    with pytest.raises(Refused) as english:
        _amount("en", raw)
    assert "Refused:" in str(english.value)


def test_english_wording_of_number_refusals_is_unchanged() -> None:
    """The English texts read as before the catalogs (logs and records keep them)."""
    with pytest.raises(Refusal) as margin:
        policy.parse_margin("abc")
    assert str(margin.value) == "'abc' is not a number (e.g. 0.1 or 10%)"
    with pytest.raises(Refusal) as stars:
        parse_custom_amount("99999")
    assert str(stars.value) == "the amount must be between 1 and 2500 Stars"
    with pytest.raises(Refusal) as places:
        policy.parse_admin_amount("2.123456")
    assert str(places.value) == "the amount takes at most 4 decimal places"


def test_announce_and_refund_argument_errors_are_russian() -> None:
    """A bad /announce recipient id and a /refund id with spaces are refused in Russian,
    the refused id named inside the Russian sentence."""
    with pytest.raises(AnnounceRefused) as announce:
        parse_announce("/announce to:12,abc Hello", ())
    text = announce.value.text("ru")
    assert "'abc'" in text
    assert _russian(text.split("\n")[0]), text
    with pytest.raises(Refusal) as refund:
        parse_refund_argument("ab\u00e9cd")
    assert _russian(refund.value.text("ru")), refund.value.text("ru")
    for bad in ("abc", "@"):
        with pytest.raises(typed_numbers.NumberRefused) as user:
            (typed_numbers.parse_username if bad == "@" else typed_numbers.parse_user_id)(bad)
        assert _russian(user.value.text("ru"))


@given(st.text(max_size=40))
def test_any_typed_margin_or_amount_is_parsed_or_refused_in_both_languages(raw: str) -> None:
    """Whatever an admin types, the parsers answer a value or a refusal that formats in
    every language (never a KeyError or a template)."""
    for parse in (policy.parse_margin, policy.parse_admin_amount):
        try:
            parse(raw)
        except Refusal as refusal:
            for language in ("en", "ru"):
                text = refusal.text(language)
                assert text
                assert "{" in raw or "{" not in text


def _apply(state: BillingState, command: object) -> list[object]:
    entries = decide(state, command, T0, privileged=frozenset())  # type: ignore[arg-type]
    for entry in entries:
        evolve(state, entry)
    return list(entries)


def _refused(state: BillingState, command: object) -> OperationRejected:
    [entry] = _apply(state, command)
    assert isinstance(entry, OperationRejected)
    return entry


def test_refund_refusals_name_their_specifics_in_russian() -> None:
    """A refund refused for its age, the balance or an unknown id records its specifics, so
    the Russian reply names the payment date, the amounts and the id; English keeps the
    ledger's detail; a record without values (older) still gets the reason's text."""
    state = BillingState()
    payload = InvoicePayload(UID, "0" * 32, 100, Decimal(0)).encode()
    _apply(
        state,
        commands.payment_credit(
            UID, "ch1", 100, invoice_payload=payload, owner_margin=Decimal(0), occurred_at=T0
        ),
    )
    late = _refused(state, commands.refund_debit(UID, "ch1", occurred_at=T0 + timedelta(days=31)))
    unknown = _refused(state, commands.refund_debit(UID, "nope", occurred_at=T0))
    other = _refused(state, commands.refund_debit(UID, "ch1", requested_by=7, occurred_at=T0))
    _apply(state, commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=1000)))
    low = _refused(state, commands.refund_debit(UID, "ch1", occurred_at=T0))

    def ru(entry: OperationRejected) -> str:
        return replies.refund_refused("ru", "ch1", entry.reason, entry.detail, entry.detail_values)

    assert "2026-06-01" in ru(late)
    assert say("ru", "refusal_detail.refund_window_expired", days=30, paid="2026-06-01") in ru(late)
    assert "nope" in ru(unknown)
    assert low.detail_values is not None
    assert f"${low.detail_values['balance']}" in ru(low)
    assert "$0.65" in ru(low)
    assert other.detail_values is None
    assert say("ru", "refusal.not_payer") in ru(other)
    for entry in (late, unknown, low, other):
        assert _russian(ru(entry)), ru(entry)
        values = entry.detail_values
        english = replies.refund_refused("en", "ch1", entry.reason, entry.detail, values)
        assert entry.detail in english
    older = replies.refund_refused("ru", "ch1", late.reason, late.detail, None)
    assert say("ru", "refusal.refund_window_expired") in older

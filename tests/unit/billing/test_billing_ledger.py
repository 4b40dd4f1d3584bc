from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from actors.billing import commands
from actors.billing.ledger import BillingState, decide, evolve, fold
from actors.billing.payments import InvoicePayload
from actors.billing.pricing import PRICE_TABLES
from actors.thread.models import SONNET
from events.billing import (
    AdminToppedUp,
    OperationRejected,
    PaymentCredited,
    RefundDebited,
    RefundReversed,
    StarterCreditGranted,
    UsageDebited,
)
from events.catalog import BILLING_COMMANDS, BILLING_LEDGER, LedgerRecord
from events.codec import codec_for
from events.usage import ModelUsage, ToolQuantities, Usage

T0 = datetime(2026, 6, 1, tzinfo=UTC)
UID = 42
ADMINS = frozenset({1, 9, 99})


def apply(state: BillingState, command: object, now: datetime = T0) -> list[LedgerRecord]:
    entries = decide(state, command, now, privileged=ADMINS)  # type: ignore[arg-type]
    for entry in entries:
        evolve(state, entry)
    return entries


def paid(state: BillingState, charge: str = "ch1", stars: int = 100, at: datetime = T0) -> None:
    payload = InvoicePayload(UID, "0" * 32, stars, Decimal(0)).encode()
    cmd = commands.payment_credit(
        UID, charge, stars, invoice_payload=payload, owner_margin=Decimal(0), occurred_at=at
    )
    apply(state, cmd, at)


def test_starter_credit_is_granted_once_per_user() -> None:
    """$1.00 once; the same operation again is a no-op; another starter op is refused."""
    state = BillingState()
    [entry] = apply(state, commands.starter_credit(UID))
    assert isinstance(entry, StarterCreditGranted)
    assert (entry.amount, entry.balance_after) == (Decimal("1.00"), Decimal("1.00"))
    assert apply(state, commands.starter_credit(UID)) == []
    again = commands.starter_credit(UID)
    other = msgspec.structs.replace(again, operation_id="starter:other")
    [refused] = apply(state, other)
    assert isinstance(refused, OperationRejected)
    assert refused.reason == "already_granted"
    assert state.balance == Decimal("1.00")


def test_usage_charge_records_price_version_quantities_and_lines() -> None:
    """A charge carries what it was computed from: version, usage, lines; amount negative."""
    state = BillingState()
    usage = Usage(input_tokens=1000, output_tokens=500)
    [entry] = apply(state, commands.usage_charge(UID, model=SONNET, usage=usage))
    assert isinstance(entry, UsageDebited)
    assert entry.price_version == PRICE_TABLES[-1].version
    assert entry.usage == usage
    assert entry.amount == -Decimal("0.0105")
    assert sum(line.amount for line in entry.lines) == -entry.amount
    assert state.balance == entry.balance_after == -Decimal("0.0105")


def test_same_operation_same_payload_is_a_noop_even_with_a_new_envelope() -> None:
    """A retried command (new envelope id, same operation and payload) changes nothing."""
    state = BillingState()
    first = commands.usage_charge(
        UID,
        source_event_id="0" * 8 + "-0000-7000-8000-" + "0" * 12,
        model=SONNET,
        usage=Usage(input_tokens=10),
    )
    apply(state, first)
    retry = msgspec.structs.replace(first, id="01968c2b-ec9b-7000-8000-00000000abcd")
    assert apply(state, retry) == []
    assert state.entries == 1


def test_conflicting_duplicate_is_rejected_once_and_the_original_stands() -> None:
    """Same operation id, other payload: one rejection naming both digests, balance kept."""
    state = BillingState()
    first = commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=10))
    apply(state, first)
    before = state.balance
    conflicting = msgspec.structs.replace(first, usage=Usage(input_tokens=999))
    [rejected] = apply(state, conflicting)
    assert isinstance(rejected, OperationRejected)
    assert rejected.reason == "conflicting_duplicate"
    assert rejected.amount == 0
    assert state.operations[first.operation_id] in rejected.detail
    assert apply(state, conflicting) == []
    assert state.balance == before


def test_payment_credit_uses_the_invoice_margin_and_credits_once_per_charge() -> None:
    """stars x 0.013 x (1-0.35-0.15-k3); the same charge under another op id is refused."""
    state = BillingState()
    payload = InvoicePayload(UID, "a" * 32, 100, Decimal("0.1")).encode()
    cmd = commands.payment_credit(
        UID, "chX", 100, invoice_payload=payload, owner_margin=Decimal("0.1")
    )
    [entry] = apply(state, cmd)
    assert isinstance(entry, PaymentCredited)
    assert entry.amount == Decimal("0.52")
    assert (entry.withdrawal_fee, entry.topics_fee, entry.owner_margin) == (
        Decimal("0.35"),
        Decimal("0.15"),
        Decimal("0.1"),
    )
    again = msgspec.structs.replace(cmd, operation_id="payment:other")
    [refused] = apply(state, again)
    assert isinstance(refused, OperationRejected)
    assert refused.reason == "already_credited"
    assert state.balance == Decimal("0.52")


def test_refund_debits_the_credit_then_a_second_refund_is_refused() -> None:
    """Refund within 30 days by the payer: debit; asking again: already_refunded."""
    state = BillingState()
    paid(state)
    [debit] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0 + timedelta(days=1)))
    assert isinstance(debit, RefundDebited)
    assert (debit.amount, debit.stars, state.balance) == (Decimal("-0.65"), 100, Decimal(0))
    [again] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0 + timedelta(days=2)))
    assert isinstance(again, OperationRejected)
    assert again.reason == "already_refunded"


def test_refund_refusals_say_why() -> None:
    """Older than 30 days, by someone else, above the balance, unknown: each with a reason."""
    state = BillingState()
    paid(state)
    late = commands.refund_debit(UID, "ch1", occurred_at=T0 + timedelta(days=31))
    other = commands.refund_debit(UID, "ch1", requested_by=7, occurred_at=T0)
    unknown = commands.refund_debit(UID, "nope", occurred_at=T0)
    reasons = {}
    for cmd in (late, other, unknown):
        [entry] = apply(state, cmd)
        assert isinstance(entry, OperationRejected)
        assert entry.detail
        reasons[cmd.operation_id] = entry.reason
    assert list(reasons.values()) == ["refund_window_expired", "not_payer", "unknown_payment"]
    apply(state, commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=1000)))
    [low] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    assert isinstance(low, OperationRejected)
    assert low.reason == "balance_too_low"
    assert "covers" in low.detail


def test_refund_reversal_credits_back_once_and_allows_a_new_refund() -> None:
    """Telegram refused the refund: the debit is reversed; the payment is refundable again."""
    state = BillingState()
    paid(state)
    [debit] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    reversal = commands.refund_reversal(UID, "ch1", debit.operation_id, "CHARGE_NOT_FOUND")
    [back] = apply(state, reversal)
    assert isinstance(back, RefundReversed)
    assert state.balance == Decimal("0.65")
    assert apply(state, reversal) == []
    other = commands.refund_reversal(UID, "ch1", "refund:ch1:other", "x")
    [refused] = apply(state, other)
    assert isinstance(refused, OperationRejected)
    assert refused.reason == "not_refunded"
    [debit2] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    assert isinstance(debit2, RefundDebited)


def test_admin_top_up_names_the_admin_and_may_deduct() -> None:
    """Admin adjustments are ledger entries with the admin's id; zero is refused."""
    state = BillingState()
    [up] = apply(state, commands.admin_top_up(UID, Decimal("5"), 99, reason="gift"))
    [down] = apply(state, commands.admin_top_up(UID, Decimal("-2"), 99))
    [zero] = apply(state, commands.admin_top_up(UID, Decimal("0"), 99))
    assert isinstance(up, AdminToppedUp)
    assert (up.admin_user_id, up.reason) == (99, "gift")
    assert isinstance(down, AdminToppedUp)
    assert isinstance(zero, OperationRejected)
    assert zero.reason == "invalid_amount"
    assert state.balance == Decimal(3)


def test_admin_top_up_by_an_unprivileged_id_is_rejected_with_a_reason() -> None:
    """The ledger itself checks the admin id (a command written to the topic by anyone,
    e.g. through the Kafka UI, used to be credited); no privileged ids: nobody may."""
    state = BillingState()
    forged = commands.admin_top_up(UID, Decimal("500"), 12345)
    [refused] = apply(state, forged)
    assert isinstance(refused, OperationRejected)
    assert refused.reason == "not_privileged"
    assert "12345" in refused.detail
    assert state.balance == 0
    [none] = decide(BillingState(), commands.admin_top_up(UID, Decimal(1), 99), T0)
    assert isinstance(none, OperationRejected)
    assert none.reason == "not_privileged"


def test_usage_of_an_unpriced_model_is_debited_at_the_ceiling_not_free() -> None:
    """A model id missing from the table is consumed usage all the same: debited at the
    highest rate of the table (issue 10 item 5), never rejected as free."""
    state = BillingState()
    [entry] = apply(
        state, commands.usage_charge(UID, model="claude-x", usage=Usage(input_tokens=5))
    )
    assert isinstance(entry, UsageDebited)
    assert entry.amount == Decimal("-0.0000250000")


def test_entries_survive_the_wire_and_fold_to_the_same_state() -> None:
    """Encode every entry with the ledger codec, decode, fold: same balance and payments."""
    state = BillingState()
    log: list[LedgerRecord] = []
    log += apply(state, commands.starter_credit(UID))
    paid(state)
    log += apply(state, commands.usage_charge(UID, model=SONNET, usage=Usage(output_tokens=77)))
    codec = codec_for(BILLING_LEDGER)
    decoded = [codec.decode(codec.encode(e)[1]) for e in log]
    assert decoded == log
    replayed = fold(decoded)
    assert replayed.balance == sum(e.amount for e in log)


def test_a_duplicate_entry_from_a_second_writer_is_not_counted_twice() -> None:
    """The fold skips an entry whose operation is already applied (zombie writer)."""
    state = BillingState()
    [entry] = decide(state, commands.admin_top_up(UID, Decimal(1), 9), T0, privileged=ADMINS)
    replayed = fold([entry, entry])
    assert replayed.balance == Decimal(1)
    assert replayed.duplicate_entries == 1
    assert replayed.balance_mismatches == 0


_BAD_SECONDS = ["Infinity", "-Infinity", "NaN", "sNaN", "-3600", "1e30", "1E+999999"]


@pytest.mark.parametrize("field", ["whisper_seconds", "sandbox_seconds"])
@pytest.mark.parametrize("raw", _BAD_SECONDS)
def test_non_finite_negative_or_huge_tool_seconds_are_rejected_invalid_amount(
    field: str, raw: str
) -> None:
    """A decoded command with NaN/Infinity/negative/huge seconds is a rejection entry
    (invalid_amount, balance unchanged), never an exception and never a credit."""
    codec = codec_for(BILLING_COMMANDS)
    cmd = commands.usage_charge(
        UID,
        tool_name="t",
        tool_quantities=ToolQuantities(whisper_seconds=Decimal(1), sandbox_seconds=Decimal(1)),
        source="tool_call",
    )
    _key, value, _headers = codec.encode(cmd)
    obj = json.loads(value)
    obj["tool_quantities"][field] = raw
    decoded = codec.decode(json.dumps(obj).encode())
    state = BillingState(balance=Decimal(1))
    [entry] = apply(state, decoded)
    assert isinstance(entry, OperationRejected)
    assert entry.reason == "invalid_amount"
    assert field in entry.detail
    assert state.balance == Decimal(1)
    assert apply(state, decoded) == []  # decided once: a repeat is a no-op


@pytest.mark.parametrize(
    "usage",
    [
        Usage(input_tokens=-1000),
        Usage(output_tokens=-1),
        Usage(cache_read_input_tokens=10**30),
        Usage(web_search_requests=-2),
    ],
)
def test_negative_or_huge_token_counts_are_rejected_invalid_amount(usage: Usage) -> None:
    """Negative token counts would credit money, huge ones overflow pricing: both refused."""
    state = BillingState(balance=Decimal(1))
    [entry] = apply(state, commands.usage_charge(UID, model=SONNET, usage=usage))
    assert isinstance(entry, OperationRejected)
    assert entry.reason == "invalid_amount"
    assert state.balance == Decimal(1)


def test_negative_usage_inside_a_tool_model_call_is_rejected() -> None:
    """Usage of a Claude call made by a tool is checked like the main call's."""
    quantities = ToolQuantities(
        model_calls=(ModelUsage(model=SONNET, usage=Usage(input_tokens=-5)),)
    )
    [entry] = apply(
        BillingState(),
        commands.usage_charge(UID, tool_name="t", tool_quantities=quantities, source="tool_call"),
    )
    assert isinstance(entry, OperationRejected)
    assert entry.reason == "invalid_amount"


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-Infinity", "1e30"])
def test_non_finite_or_huge_admin_top_up_and_margin_are_rejected(raw: str) -> None:
    """Admin amounts and payment margins that are not finite/plausible are rejections."""
    state = BillingState()
    [top_up] = apply(state, commands.admin_top_up(UID, Decimal(raw), 1))
    assert isinstance(top_up, OperationRejected)
    assert top_up.reason == "invalid_amount"
    payload = InvoicePayload(UID, "0" * 32, 100, Decimal(0)).encode()
    credit = commands.payment_credit(
        UID, "ch-bad", 100, invoice_payload=payload, owner_margin=Decimal(raw), occurred_at=T0
    )
    [rejected] = apply(state, credit)
    assert isinstance(rejected, OperationRejected)
    assert rejected.reason == "invalid_amount"
    assert state.balance == 0


def test_decide_never_raises_on_a_nan_balance() -> None:
    """A state whose balance is NaN (a corrupt entry) still gets decisions, not exceptions."""
    state = BillingState()
    paid(state)
    state.balance = Decimal("NaN")
    [entry] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    assert isinstance(entry, OperationRejected)
    assert entry.reason == "balance_too_low"


def test_a_second_refund_request_while_the_first_is_in_flight_does_not_debit_twice() -> None:
    """RefundDebited marks the payment refund-pending: another /refund (other request id)
    is rejected already_refunded until a reversal clears it."""
    state = BillingState()
    paid(state)
    [first] = apply(state, commands.refund_debit(UID, "ch1", request_id="r1", occurred_at=T0))
    assert isinstance(first, RefundDebited)
    [second] = apply(state, commands.refund_debit(UID, "ch1", request_id="r2", occurred_at=T0))
    assert isinstance(second, OperationRejected)
    assert second.reason == "already_refunded"
    assert state.balance == 0

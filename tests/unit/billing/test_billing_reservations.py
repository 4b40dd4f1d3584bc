"""Reservations for running calls, refunds made outside the bot, and the operation-id window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from actors.billing import commands, policy
from actors.billing.ledger import OPERATION_RETENTION, BillingState, decide, evolve, fold
from actors.billing.payments import InvoicePayload
from actors.billing.reservations import Holds, estimate_call, request_input_tokens
from actors.thread.models import OPUS, SONNET
from events.billing import (
    OperationRejected,
    RefundDebited,
    RefundedPaymentDebited,
    ReservationReleased,
    UsageDebited,
    UsageReserved,
)
from events.catalog import LedgerRecord
from events.usage import Usage

T0 = datetime(2026, 6, 1, tzinfo=UTC)
UID = 42


def apply(state: BillingState, command: object, now: datetime = T0) -> list[LedgerRecord]:
    entries = decide(state, command, now, privileged=frozenset({1}))  # type: ignore[arg-type]
    for entry in entries:
        evolve(state, entry)
    return entries


def paid(state: BillingState, charge: str = "ch1", stars: int = 100, at: datetime = T0) -> None:
    payload = InvoicePayload(UID, "0" * 32, stars, Decimal(0)).encode()
    cmd = commands.payment_credit(
        UID, charge, stars, invoice_payload=payload, owner_margin=Decimal(0), occurred_at=at
    )
    apply(state, cmd, at)


def reserve(state: BillingState, rid: str, amount: str, at: datetime = T0) -> UsageReserved:
    [entry] = apply(state, commands.usage_reserve(UID, rid, Decimal(amount), occurred_at=at), at)
    assert isinstance(entry, UsageReserved)
    return entry


def test_a_reservation_holds_until_the_charge_that_names_it_settles_it() -> None:
    """Reserve: balance unchanged, available lower; the call's charge settles it exactly."""
    state = BillingState()
    paid(state)  # $0.65
    entry = reserve(state, "t1:1", "0.40")
    assert (entry.amount, entry.reserved) == (Decimal(0), Decimal("0.40"))
    assert entry.expires_at == T0 + policy.RESERVATION_TTL
    assert state.balance == Decimal("0.65")
    assert state.available(T0) == Decimal("0.25")
    charge = commands.usage_charge(
        UID, model=SONNET, usage=Usage(input_tokens=1000), occurred_at=T0, reservation_id="t1:1"
    )
    [debit] = apply(state, charge)
    assert isinstance(debit, UsageDebited)
    assert debit.reservation_id == "t1:1"
    assert state.reservations == {}
    assert state.available(T0) == state.balance == Decimal("0.647")


def test_a_release_frees_the_hold_once_and_a_late_release_frees_nothing() -> None:
    """A failed or cancelled turn without a charge releases; releasing again is a repeat."""
    state = BillingState()
    paid(state)
    reserve(state, "t1:1", "0.5")
    release = commands.reservation_release(UID, "t1:1", "turn_failed", occurred_at=T0)
    [freed] = apply(state, release)
    assert isinstance(freed, ReservationReleased)
    assert freed.released == Decimal("0.5")
    assert state.available(T0) == Decimal("0.65")
    assert apply(state, release) == []
    other = commands.reservation_release(UID, "t9:1", "no_usage", occurred_at=T0)
    [nothing] = apply(state, other)
    assert isinstance(nothing, ReservationReleased)
    assert nothing.released == 0


def test_an_unsettled_reservation_expires_and_the_fold_forgets_it() -> None:
    """A reservation never settled (a crashed worker) holds for RESERVATION_TTL only."""
    state = BillingState()
    paid(state)
    reserve(state, "lost:1", "0.6")
    later = T0 + policy.RESERVATION_TTL
    assert state.available(later - timedelta(seconds=1)) == Decimal("0.05")
    assert state.available(later) == Decimal("0.65")
    reserve(state, "t2:1", "0.1", at=later)
    assert set(state.reservations) == {"t2:1"}


def test_refund_is_refused_while_running_usage_would_no_longer_be_covered() -> None:
    """/refund counts usage in flight: balance 0.65 with 0.30 reserved cannot refund 0.65."""
    state = BillingState()
    paid(state)
    reserve(state, "t1:1", "0.30")
    [refused] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    assert isinstance(refused, OperationRejected)
    assert refused.reason == "balance_too_low"
    apply(state, commands.reservation_release(UID, "t1:1", occurred_at=T0))
    [debit] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    assert isinstance(debit, RefundDebited)


def test_concurrent_turns_cannot_start_past_the_available_balance() -> None:
    """Five turns of four steps each, charged only afterwards: with the holds counted, the
    balance check stops new calls once the estimates cover the balance (before, all five
    started and all twenty calls were charged past it)."""
    state = BillingState()
    paid(state)  # $0.65
    estimate = estimate_call(SONNET, 20_000, 4_096, T0)
    started = []
    for turn in range(5):
        for step in range(1, 5):
            if not policy.may_start_request(state.available(T0)).allowed:
                break
            reserve(state, f"turn{turn}:{step}", str(estimate))
            started.append((turn, step))
    assert len(started) < 20
    spent_at_most = estimate * len(started)
    assert state.balance - spent_at_most > -estimate  # at most one call's estimate past zero


def test_reservation_amounts_are_bounded() -> None:
    """Negative, non-finite or huge reservations are rejections, never holds."""
    for raw in ("-1", "NaN", "Infinity", "1e9"):
        state = BillingState()
        [entry] = apply(state, commands.usage_reserve(UID, "r:1", Decimal(raw), occurred_at=T0))
        assert isinstance(entry, OperationRejected)
        assert entry.reason == "invalid_amount"
        assert state.reservations == {}


def test_estimates_count_bytes_and_fall_back_to_the_dearest_model() -> None:
    """CJK text counts a token per character; an unknown model is estimated at Opus price."""
    request = {"system": "abc", "messages": [{"role": "user", "content": "你好" * 100}]}
    assert request_input_tokens(request) >= 200
    unknown = estimate_call("claude-unknown-9", 1000, 1000, T0)
    assert unknown == estimate_call(OPUS, 1000, 1000, T0) > 0


def test_holds_view_follows_the_ledger_and_drops_expired_holds() -> None:
    """The thread worker's view of holds: reserved, settled, released, expired."""
    state = BillingState()
    holds = Holds()
    paid(state)
    for entry in [reserve(state, "a:1", "0.1"), reserve(state, "b:1", "0.2")]:
        holds.apply(entry)
    assert holds.held(UID, T0) == Decimal("0.3")
    [freed] = apply(state, commands.reservation_release(UID, "a:1", occurred_at=T0))
    holds.apply(freed)  # type: ignore[arg-type]
    assert holds.held(UID, T0) == Decimal("0.2")
    assert holds.held(UID, T0 + policy.RESERVATION_TTL) == 0
    assert holds.open == {}


# --------------------------------------------------------------------------- refunded_payment


def test_a_payment_refunded_outside_the_bot_is_debited_once() -> None:
    """refunded_payment debits the credit (even below zero); again, under any op id: no."""
    state = BillingState()
    paid(state)
    apply(state, commands.usage_charge(UID, model=SONNET, usage=Usage(output_tokens=10_000)))
    external = commands.refunded_payment_debit(UID, "ch1", 100, occurred_at=T0)
    [debit] = apply(state, external)
    assert isinstance(debit, RefundedPaymentDebited)
    assert debit.amount == Decimal("-0.65")
    assert state.balance < 0
    assert apply(state, external) == []
    [again] = apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    assert isinstance(again, OperationRejected)
    assert again.reason == "already_refunded"


def test_the_bots_own_refund_confirmed_by_refunded_payment_is_not_debited_twice() -> None:
    """/refund debits; Telegram's refunded_payment message for it is refused, not debited."""
    state = BillingState()
    paid(state)
    apply(state, commands.refund_debit(UID, "ch1", occurred_at=T0))
    [confirm] = apply(state, commands.refunded_payment_debit(UID, "ch1", 100, occurred_at=T0))
    assert isinstance(confirm, OperationRejected)
    assert confirm.reason == "already_refunded"
    assert state.balance == 0
    [unknown] = apply(state, commands.refunded_payment_debit(UID, "zz", 5, occurred_at=T0))
    assert isinstance(unknown, OperationRejected)
    assert unknown.reason == "unknown_payment"


# --------------------------------------------------------------------------- retention


def test_operation_ids_are_forgotten_after_the_window_and_old_commands_are_refused() -> None:
    """Memory holds at most two windows of operation ids; a command older than the horizon
    (which could be a repeat of a forgotten operation) is refused, never applied twice."""
    state = BillingState()
    apply(state, commands.admin_top_up(UID, Decimal(100), 1), T0)
    first = commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=10), occurred_at=T0)
    apply(state, first, T0)
    day = timedelta(days=1)
    for n in range(1, 100):
        at = T0 + n * day
        cmd = commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=10), occurred_at=at)
        apply(state, cmd, at)
    remembered = len(state.operations) + len(state.previous_operations)
    assert remembered <= 2 * OPERATION_RETENTION.days + 1
    assert state.horizon is not None
    assert state.digest_of(first.operation_id) is None
    balance = state.balance
    [refused] = apply(state, first, T0 + 100 * day)
    assert isinstance(refused, OperationRejected)
    assert refused.reason == "operation_expired"
    assert state.balance == balance
    recent = commands.usage_charge(
        UID, model=SONNET, usage=Usage(input_tokens=10), occurred_at=T0 + 99 * day
    )
    apply(state, recent, T0 + 99 * day)
    assert apply(state, recent, T0 + 100 * day) == []


def test_the_fold_forgets_the_same_ids_as_the_live_state() -> None:
    """Replaying the entries gives the same remembered ids and horizon as live decisions."""
    state = BillingState()
    log: list[LedgerRecord] = []
    for n in range(80):
        at = T0 + timedelta(days=n)
        cmd = commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=5), occurred_at=at)
        log += apply(state, cmd, at)
    replayed = fold(log)
    assert replayed.operations == state.operations
    assert replayed.previous_operations == state.previous_operations
    assert replayed.horizon == state.horizon


def test_a_horizon_raised_by_a_restore_is_never_lowered_by_a_later_rotation() -> None:
    """After a start from snapshots the ids before the re-read window are unknown: the
    next generation change must not claim them remembered again."""
    state = BillingState()
    apply(state, commands.admin_top_up(UID, Decimal(100), 1), T0)
    raised = T0 + timedelta(days=20)
    state.horizon = raised  # what a restore does when it re-reads from day 20 on
    later = T0 + OPERATION_RETENTION + timedelta(days=1)
    cmd = commands.usage_charge(UID, model=SONNET, usage=Usage(input_tokens=5), occurred_at=later)
    apply(state, cmd, later)
    assert state.horizon == raised
    old = commands.usage_charge(
        UID, model=SONNET, usage=Usage(input_tokens=5), occurred_at=T0 + timedelta(days=5)
    )
    [refused] = apply(state, old, later)
    assert isinstance(refused, OperationRejected)
    assert refused.reason == "operation_expired"

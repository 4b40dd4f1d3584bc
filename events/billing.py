"""Billing: commands (``bot.billing.commands``) and ledger entries (``bot.billing.ledger``).

Both keyed by user id. Every command names an ``operation_id`` chosen by its producer and
derived from what it is about, so retries carry the same id:

* ``starter:{user_id}``; ``usage:{event_id}`` (the priced thread event);
  ``payment:{telegram_payment_charge_id}``;
  ``refund:{telegram_payment_charge_id}:{refund request id}`` (a new ``/refund`` after a
  refusal is a new operation, not a repeat);
  ``refund-reversal:{refund operation id}``; ``topup:{command id}``;
  ``reserve:{reservation id}`` and ``release:{reservation id}`` (a reservation id is
  ``{turn id}:{step}``: one per model call); ``refunded-payment:{telegram_payment_charge_id}``.

Reservations: before a model call the thread actor reserves an estimate of its cost; the
call's usage charge names the reservation and settles it; a turn that ends without a charge
releases it; a reservation never settled stops counting after
:data:`actors.billing.policy.RESERVATION_TTL`. ``available = balance - open reservations``
is what the balance check and ``/refund`` use.

The ledger is append-only; each entry names the operation it applies, its signed ``amount``
(USD, Decimal) and the ``balance_after``. A balance is the fold of its ledger. The same
operation id with the same ``command_digest`` is a no-op; with another digest, the billing
actor appends ``ledger.operation_rejected`` (reason ``conflicting_duplicate``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal

from events.envelope import Envelope, Payload, UtcDatetime
from events.ids import Id
from events.usage import ModelId, ToolQuantities, Usage

USAGE_SOURCES: Final = (
    "model_call",
    "cancelled_call",
    "failed_call",
    "tool_call",
    "topic_naming",
    "transcription",
)
REJECTION_REASONS: Final = (
    "conflicting_duplicate",
    "balance_too_low",
    "refund_window_expired",
    "unknown_payment",
    "already_refunded",
    "not_refunded",
    "invalid_amount",
    "not_payer",
    "already_granted",
    "already_credited",
    "unpriced",
    "not_privileged",
    "operation_expired",
)
RELEASE_REASONS: Final = ("turn_failed", "turn_cancelled", "no_usage", "interrupted")

# --------------------------------------------------------------------------- commands


class StarterCreditRequested(
    Envelope, tag="billing.starter_credit_requested", frozen=True, kw_only=True
):
    """Grant the starter balance to a newly registered user (once per user)."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int


class UsageChargeRequested(
    Envelope, tag="billing.usage_charge_requested", frozen=True, kw_only=True
):
    """Charge what a model call or tool call consumed; billing prices it.

    ``source_event_id`` is the thread event that records the consumption
    (``assistant_message_completed``, ``turn_cancelled``, ``turn_failed``,
    ``tool_call_completed``/``failed``, ``topic_named``); ``source`` is one of
    :data:`USAGE_SOURCES`.
    """

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    source: str
    source_event_id: Id
    thread_key: str
    turn_id: Id | None = None
    model: ModelId | None = None
    usage: Usage | None = None
    tool_name: str | None = None
    tool_quantities: ToolQuantities | None = None
    reservation_id: str | None = None
    """The reservation this charge settles (``None``: none)."""


class UsageReserveRequested(
    Envelope, tag="billing.usage_reserve_requested", frozen=True, kw_only=True
):
    """Hold ``amount`` (USD, an estimate of one model call's cost) while the call runs."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    reservation_id: str
    amount: Decimal
    thread_key: str
    turn_id: Id | None = None


class ReservationReleaseRequested(
    Envelope, tag="billing.reservation_release_requested", frozen=True, kw_only=True
):
    """The turn ended without a charge for this reservation: stop holding it."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    reservation_id: str
    reason: str = ""


class RefundedPaymentDebitRequested(
    Envelope, tag="billing.refunded_payment_debit_requested", frozen=True, kw_only=True
):
    """A ``refunded_payment`` service message: Telegram refunded a payment outside the bot
    (or confirms one the bot made); debit its credit unless it is already refunded."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    telegram_payment_charge_id: str
    stars: int


class PaymentCreditRequested(
    Envelope, tag="billing.payment_credit_requested", frozen=True, kw_only=True
):
    """Credit a successful Stars payment at the margin quoted on its invoice."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    telegram_payment_charge_id: str
    stars: int
    invoice_payload: str
    owner_margin: Decimal


class RefundDebitRequested(
    Envelope, tag="billing.refund_debit_requested", frozen=True, kw_only=True
):
    """``/refund``: debit a payment's credit, if within 30 days and the balance covers it."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    telegram_payment_charge_id: str
    requested_by_user_id: int


class RefundReversalRequested(
    Envelope, tag="billing.refund_reversal_requested", frozen=True, kw_only=True
):
    """Telegram refused the refund after the debit: credit the amount back."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    telegram_payment_charge_id: str
    reason: str


class AdminTopUpRequested(
    Envelope, tag="billing.admin_top_up_requested", frozen=True, kw_only=True
):
    """``/topup``: a privileged user adjusts a balance (negative amounts deduct)."""

    v: Literal[1] = 1
    operation_id: str
    user_id: int
    amount: Decimal
    admin_user_id: int
    reason: str = ""


# --------------------------------------------------------------------------- ledger


class CostLine(Payload, frozen=True, kw_only=True):
    """One priced quantity: ``quantity`` x ``unit_price`` per ``unit`` = ``amount`` (USD)."""

    item: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


class LedgerEntry(Envelope, frozen=True, kw_only=True):
    """Fields every ledger entry has; not itself on the wire."""

    operation_id: str
    user_id: int
    amount: Decimal
    balance_after: Decimal
    command_id: Id
    command_digest: str


class StarterCreditGranted(
    LedgerEntry, tag="ledger.starter_credit_granted", frozen=True, kw_only=True
):
    """The starter balance ($1.00 by default) was credited."""

    v: Literal[1] = 1


class UsageDebited(LedgerEntry, tag="ledger.usage_debited", frozen=True, kw_only=True):
    """Usage was charged: the quantities, the price table version and the cost lines."""

    v: Literal[1] = 1
    price_version: str
    source: str
    source_event_id: Id
    thread_key: str
    turn_id: Id | None = None
    model: ModelId | None = None
    usage: Usage | None = None
    tool_name: str | None = None
    tool_quantities: ToolQuantities | None = None
    lines: tuple[CostLine, ...] = ()
    reservation_id: str | None = None
    """The reservation this charge settled (``None``: none)."""
    cache_writes_subsidized: bool = False
    """The cache-write subsidy was on for this usage: each cache-write line is credited back
    by a ``.../subsidy`` line, so the user paid no cache writes."""


class UsageReserved(LedgerEntry, tag="ledger.usage_reserved", frozen=True, kw_only=True):
    """``reserved`` USD is held until settled, released or ``expires_at`` (amount 0: the
    balance is unchanged, the available balance is lower)."""

    v: Literal[1] = 1
    reservation_id: str
    reserved: Decimal
    expires_at: UtcDatetime
    thread_key: str
    turn_id: Id | None = None


class ReservationReleased(
    LedgerEntry, tag="ledger.reservation_released", frozen=True, kw_only=True
):
    """A reservation stopped being held without a charge (``released``: what it held, 0
    when it was no longer open)."""

    v: Literal[1] = 1
    reservation_id: str
    released: Decimal
    reason: str = ""


class RefundedPaymentDebited(
    LedgerEntry, tag="ledger.refunded_payment_debited", frozen=True, kw_only=True
):
    """Telegram refunded a payment outside the bot: its credit is taken back (at most once
    per payment, like a refund debit; the balance may go below zero)."""

    v: Literal[1] = 1
    telegram_payment_charge_id: str
    stars: int


class PaymentCredited(LedgerEntry, tag="ledger.payment_credited", frozen=True, kw_only=True):
    """A Stars payment was credited: USD = stars x usd_per_star x (1 - k1 - k2 - k3)."""

    v: Literal[1] = 1
    telegram_payment_charge_id: str
    stars: int
    usd_per_star: Decimal
    withdrawal_fee: Decimal
    topics_fee: Decimal
    owner_margin: Decimal


class RefundDebited(LedgerEntry, tag="ledger.refund_debited", frozen=True, kw_only=True):
    """A payment's credit was taken back ahead of the Telegram refund."""

    v: Literal[1] = 1
    telegram_payment_charge_id: str
    stars: int


class RefundReversed(LedgerEntry, tag="ledger.refund_reversed", frozen=True, kw_only=True):
    """A refund debit was credited back because Telegram refused the refund."""

    v: Literal[1] = 1
    telegram_payment_charge_id: str


class AdminToppedUp(LedgerEntry, tag="ledger.admin_topped_up", frozen=True, kw_only=True):
    """A privileged user adjusted the balance."""

    v: Literal[1] = 1
    admin_user_id: int
    reason: str = ""


class OperationRejected(LedgerEntry, tag="ledger.operation_rejected", frozen=True, kw_only=True):
    """A command was refused: amount 0, balance unchanged; see :data:`REJECTION_REASONS`.

    ``detail`` says why in English; ``detail_values`` (refund refusals) holds its specifics
    (dates, amounts, the transaction id) so the refusal can be worded in the user's language
    (``refusal_detail.<reason>`` in the text catalogs)."""

    v: Literal[1] = 1
    command_type: str
    reason: str
    detail: str = ""
    detail_values: dict[str, str] | None = None


# --------------------------------------------------------------------------- snapshots


class PaymentSnapshot(Payload, frozen=True, kw_only=True):
    telegram_payment_charge_id: str
    stars: int
    credited: Decimal
    paid_at: UtcDatetime
    refunded: bool = False
    refund_operation: str | None = None


class HoldSnapshot(Payload, frozen=True, kw_only=True):
    reservation_id: str
    amount: Decimal
    expires_at: UtcDatetime


class ConflictSnapshot(Payload, frozen=True, kw_only=True):
    """An (operation id, digest) pair already answered with ``conflicting_duplicate``."""

    operation_id: str
    command_digest: str


class StateSnapshot(Payload, frozen=True, kw_only=True):
    """A user's billing state without its operation ids (those are re-read from the ledger
    window they belong to: see :mod:`infra.billing.snapshots`)."""

    balance: Decimal
    generation_started: UtcDatetime | None = None
    horizon: UtcDatetime | None = None
    conflicts: tuple[ConflictSnapshot, ...] = ()
    payments: tuple[PaymentSnapshot, ...] = ()
    reservations: tuple[HoldSnapshot, ...] = ()
    starter_granted: bool = False
    entries: int = 0
    duplicate_entries: int = 0
    balance_mismatches: int = 0
    last_entry_at: UtcDatetime | None = None


class UserStateSnapshot(Envelope, tag="billing.user_state_snapshot", frozen=True, kw_only=True):
    """The billing state of one user folded from every ledger entry of theirs on
    ``ledger_partition`` below ``covers_offset`` (key: the user id; compacted)."""

    v: Literal[1] = 1
    user_id: int
    ledger_partition: int
    covers_offset: int
    state: StateSnapshot


class SnapshotRound(Envelope, tag="billing.snapshot_round", frozen=True, kw_only=True):
    """Every user with ledger entries on ``ledger_partition`` below ``covers_offset`` has a
    :class:`UserStateSnapshot` covering them (envelope key ``"0"``, Kafka key
    ``round:{partition}:{day}``, on the partition it describes; one kept per day, so a
    start can find an older round from which the operation-id window is re-read)."""

    v: Literal[1] = 1
    ledger_partition: int
    covers_offset: int
    users: int

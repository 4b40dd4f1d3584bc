"""What billing says to people: balance reports, refusals, confirmations (plain text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

from actors.billing import policy
from actors.billing.policy import format_usd

PAYSUPPORT: Final = (
    "Payment support\n\n"
    "• Top up with /pay (Telegram Stars). Your balance pays for Claude requests and paid "
    "tools; /balance shows it with your recent operations and their transaction ids.\n"
    f"• Refunds: /refund <transaction id> within {policy.REFUND_WINDOW.days} days of the "
    "payment, as long as your balance still covers what that payment credited.\n"
    "• Anything else about a payment: write here with the transaction id, and an "
    "administrator will answer."
)
NOT_ADMIN: Final = "This command is for administrators only."
TOPUP_USAGE: Final = "usage: /topup <user_id|@username> <amount in USD> (negative deducts)"
SET_MARGIN_USAGE: Final = "usage: /set_margin <k3>, e.g. /set_margin 0.1 or /set_margin 10%"
SET_CACHE_SUBSIDY_USAGE: Final = "usage: /set_cache_subsidy on|off"
PAY_PROMPT: Final = "Choose how many Telegram Stars to buy:"

REFUSALS: Final = {
    "refund_window_expired": "the payment is older than the refund window",
    "balance_too_low": "your balance no longer covers the amount this payment credited",
    "unknown_payment": "no payment with this transaction id was made by you",
    "not_payer": "only the user who paid can ask for its refund",
    "already_refunded": "this payment has already been refunded",
}


class Line(Protocol):
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def description(self) -> str: ...


def signed_usd(amount: Decimal) -> str:
    if not amount.is_finite():
        return f"${amount}"
    return ("+" if amount >= 0 else "-") + "$" + format_usd(abs(amount))


def balance_report(balance: Decimal | None, lines: Sequence[Line]) -> str:
    if balance is None:
        return "You have no balance yet. Send a message to get your $1.00 starter credit."
    text = f"Balance: ${format_usd(balance)}"
    if not balance.is_finite() or balance <= 0:
        text += "\nRequests are paused until you top up with /pay."
    if lines:
        text += "\n\nRecent operations:"
        for line in lines:
            text += (
                f"\n{line.occurred_at:%Y-%m-%d %H:%M} {signed_usd(line.amount)} {line.description}"
            )
    return text


def payment_received(stars: int, usd: Decimal, charge_id: str) -> str:
    return (
        f"Thank you! {stars} Stars received; ${format_usd(usd)} is being added to your "
        f"balance.\nTransaction id (for /refund): {charge_id}"
    )


def refund_requested(charge_id: str) -> str:
    return f"Refund of {charge_id} requested; you will get the answer here shortly."


def refund_refused(charge_id: str, reason: str, detail: str) -> str:
    why = detail or REFUSALS.get(reason, reason.replace("_", " "))
    return f"Refund of {charge_id} refused: {why}."


def refund_done(stars: int, amount: Decimal, charge_id: str) -> str:
    return f"Refunded {stars} Stars for {charge_id}; {signed_usd(-abs(amount))} on your balance."


def refund_failed(charge_id: str, detail: str) -> str:
    return (
        f"Telegram could not refund {charge_id} ({detail}); the amount was credited back "
        "to your balance. Write to /paysupport if this persists."
    )


def custom_amount_invalid(problem: str) -> str:
    return f"{problem[0].upper()}{problem[1:]}. Reply to this message with another number."


def margin_set(owner_margin: Decimal) -> str:
    usd = policy.stars_to_usd(100, owner_margin)
    return f"Owner margin k3 set to {owner_margin}; 100 Stars now credit ${format_usd(usd)}."


def top_up_requested(user_id: int, amount: Decimal, operation_id: str) -> str:
    return f"Adjustment of {signed_usd(amount)} for user {user_id} submitted ({operation_id})."


def cache_subsidy_shown(on: bool) -> str:
    """``/set_cache_subsidy`` without an argument: the current setting."""
    who = "the bot pays them" if on else "users pay them"
    return f"Cache subsidy is {'on' if on else 'off'}: {who}.\n{SET_CACHE_SUBSIDY_USAGE}"


def cache_subsidy_set(on: bool) -> str:
    if on:
        return "Cache subsidy on: from now on users are not charged for prompt-cache writes."
    return "Cache subsidy off: from now on users pay prompt-cache writes again."
